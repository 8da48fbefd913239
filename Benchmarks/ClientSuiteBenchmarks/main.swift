// ClientSuite benchmarks: the Client module's write paths against bare GRDB, analytics latency as
// the data grows, the CLI's seeding memory, Ally's `provision` against bare GRDB and against
// pgbench, and the HTTP API (wrk) against a bare Hummingbird route and the in-process call. Run in release:
//
//     swift build -c release --product dock        # for the seeding-memory figure
//     swift run -c release ClientSuiteBenchmarks [--quick] [--skip-seed-memory] [--only GROUP,…] [--postgres-url URL] [--http-seconds N]
//     scripts/benchmark.sh [same options]           # all of it, with a throwaway PostgreSQL for figures 8–9
//
// Figures go to stdout (a table at the end), progress to stderr. Nothing fails on a slow figure:
// each target is marked PASS or BELOW.
import Foundation

let options: Options
do {
    options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
} catch {
    note("\(error)")
    exit(2)
}

let workspace = try Workspace()
do {
    try await Benchmarks.run(options: options, workspace: workspace)
    workspace.remove()
} catch {
    workspace.remove()
    note("error: \(error)")
    exit(1)
}
