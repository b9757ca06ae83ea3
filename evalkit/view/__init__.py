"""`evalkit view RESULTS... [--port P]`: a local, read-only results browser on 127.0.0.1.

A runs table (sort, filter by task / kind / model / status), a run page (metrics with direction and CIs,
breakdowns, stored plots, per-sample records paged), two runs of one task side by side on the same
samples, and the leaderboard. The page is built from JSON endpoints that other tools can use too:

    GET /api/runs                                   [{run_id, task, kind, model, status, path, ...}]
    GET /api/runs/{run_id}                          row, manifest, summary, plot names, metric directions
    GET /api/runs/{run_id}/summary                  the stored summary.json
    GET /api/runs/{run_id}/records?offset=N&limit=M {total, offset, limit, records}
    GET /api/runs/{run_id}/files/{name}             a plot the run stored
    GET /api/compare?a=ID&b=ID[&only_diff=1]        the two runs' records joined on (id, variant)
    GET /api/leaderboards                           given leaderboard files, or one built from the runs

    from evalkit.view import make_server
    server = make_server(["results/"])   # port 0: any free port; server.url; server.serve_forever()
"""

from .server import Catalogue, ViewServer, make_server

__all__ = ["Catalogue", "ViewServer", "make_server"]
