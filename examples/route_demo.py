"""Route sample requests through a RouteTable and print each decision.

Run it with ``python examples/route_demo.py``.  The table mixes the three rule syntaxes routekit
reads (Traefik v1 colon rules, v3 expressions and v2 multi-valued matchers); for each request it
prints the router that wins and, when nothing matches, why the closest routers did not.
"""

from __future__ import annotations

from routekit import Request, Route, RouteTable, parse_rule

ROUTES = [
    Route("api", "Host(`api.example.com`) && PathPrefix(`/v1`)", target="api-v1"),
    Route("api-legacy", "Host:api.example.com;PathPrefixStrip:/legacy", target="api-legacy"),
    Route("web", "Host(`example.com`) || Host(`www.example.com`)", target="website"),
    Route(
        "admin",
        "Host(`example.com`) && PathPrefix(`/admin`) && !ClientIP(`10.0.0.0/8`)",
        target="forbidden",
    ),
    Route("static", "PathRegexp(`\\.(css|js|png)$`)", target="cdn", priority=1),
    Route(
        "shop",
        parse_rule("Host(`shop.example.com`, `store.example.com`)", syntax="v2"),
        target="shop",
    ),
]

SAMPLES = [
    Request(method="GET", host="api.example.com", path="/v1/users"),
    Request(method="GET", host="API.example.com:443", path="/legacy/orders"),
    Request(method="GET", host="www.example.com", path="/"),
    Request(method="GET", host="example.com", path="/admin/panel", client_ip="192.0.2.7"),
    Request(method="GET", host="example.com", path="/admin/panel", client_ip="10.1.2.3"),
    Request(method="GET", host="cdn.example.net", path="/img/logo.png"),
    Request(method="GET", host="store.example.com", path="/cart"),
    Request(method="GET", host="unknown.example.org", path="/"),
]


def main() -> None:
    """Print the route table, then the decision for every sample request."""
    table = RouteTable(ROUTES)
    print("Route table (highest priority first):")
    for route in table.routes:
        print(f"  {route.priority:>4}  {route.name:<11} {route.rule}  ->  {route.target}")
    print()
    for request in SAMPLES:
        match = table.match(request)
        line = f"{request.method} {request.raw_host}{request.raw_path}"
        if request.client_ip:
            line += f" from {request.client_ip}"
        if match is None:
            print(f"{line}\n    -> no route (404)")
            print("    " + str(table.explain(request)).replace("\n", "\n    "))
        else:
            rewrites = ", ".join(str(r) for r in match.route.rule.rewrites)
            extra = f" then rewrite: {rewrites}" if rewrites else ""
            print(f"{line}\n    -> {match.route.name} ({match.route.target}){extra}")


if __name__ == "__main__":
    main()
