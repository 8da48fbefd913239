import Foundation
import SuiteTestSupport
import Testing

/// What the list and report commands share: pages read with `--limit`/`--after`, and `--from`/`--to` days.
@Suite struct DockPagingTests {
    @Test(arguments: Engine.allCases)
    func everyListPrintsTheAfterOfItsNextPageAndReadsOnFromIt(engine: Engine) async throws {
        try await withDock(engine) { dock in
            for index in 1...3 {
                _ = try dock.json("client", "create", "--name", "Client \(index)", "--email", "c\(index)@example.com")
                _ = try dock.json("wave", "product", "create", "--name", "Product \(index)", "--slug", "product-\(index)",
                                  "--price", "100", "--currency", "USD")
            }
            for list in [["client", "list"], ["wave", "product", "list"]] {
                var seen: [String] = []
                var after: [String] = []
                for _ in 1...3 {
                    let page = try dock.run(list + ["--limit", "1"] + after)
                    #expect(page.status == 0, "\(list): \(page.stderr)")
                    let lines = page.stdout.split(separator: "\n").map(String.init)
                    #expect(lines.count == 2 + (seen.count < 2 ? 1 : 0), "\(list): \(page.stdout)")
                    seen.append(lines[1])
                    if let more = lines.last, more.hasPrefix("more: --after ") {
                        after = ["--after", String(more.dropFirst("more: --after ".count))]
                    }
                }
                #expect(Set(seen).count == 3, "\(list): \(seen)")

                let json = try dock.json(list + ["--limit", "2"]) as? [String: Any]
                #expect((json?["items"] as? [Any])?.count == 2 && json?["next_cursor"] is String, "\(list)")
                let last = try dock.json(list + ["--limit", "3"]) as? [String: Any]
                #expect(last?["next_cursor"] is NSNull, "\(list)")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aDayThatIsNotADateIsAUsageErrorBeforeTheDatabaseIsOpened(engine: Engine) async throws {
        try await withDock(engine) { dock in
            let reports: [[String]] = [
                ["client", "analytics", "status", "--from", "someday"],
                ["client", "analytics", "growth", "--from", "2026-01-01", "--to", "someday"],
                ["ally", "analytics", "top", "--to", "someday"],
                ["ally", "analytics", "credits", "--from", "someday", "--to", "2026-01-01"],
                ["forge", "analytics", "products", "--from", "someday"],
                ["forge", "analytics", "trends", "--from", "2026-01-01", "--to", "someday"],
                ["wave", "analytics", "totals", "--to", "someday"],
                ["wave", "analytics", "revenue", "--from", "someday", "--to", "2026-01-01", "--currency", "USD"],
            ]
            for arguments in reports {
                let option = arguments[arguments.firstIndex(of: "someday")! - 1]
                let result = try dock.run(arguments)
                #expect(result.status == 64, "\(arguments): \(result.stderr)")
                #expect(result.stderr == "error: \(option) must be a date like 2026-01-31 (see --help)\n", "\(arguments)")
                #expect(result.stdout.isEmpty, "\(arguments)")
            }
        }
    }
}
