import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet

/// The ledger's daily activity: exact before and after a fold, per account and per bucket, user
/// accounts of one unit only, and what a fold moved never counted twice.
@Suite struct LedgerActivityTests {
    static let day1 = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z

    @Test(arguments: Engine.allCases)
    func activityIsTheSameBeforeAndAfterAFoldAndCountsOnlyUserAccountsOfTheUnit(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Ledger.install(on: database)
            let clock = ManualWallClock(now: Self.day1)
            let ledger = Ledger(database: database, clock: clock)
            let alpha = try await ledger.account(owner: "RS-ALPHA", unit: .credits)
            let beta = try await ledger.account(owner: "RS-BETA", unit: .credits)
            let dollars = try await ledger.account(owner: "CL-1", unit: try Unit("USD"))
            let revenue = try await ledger.system(.revenue, unit: .credits)
            try await ledger.issue(1_000, to: alpha.refid, description: "Top-up")
            try await ledger.issue(500, to: beta.refid, description: "Top-up")
            try await ledger.issue(9_999, to: dollars.refid, description: "Funds")
            try await ledger.transfer(from: alpha.refid, to: revenue.refid, amount: 100, description: "a")
            clock.advance(by: 86_400)
            try await ledger.transfer(from: alpha.refid, to: revenue.refid, amount: 40, description: "b")
            try await ledger.transfer(from: alpha.refid, to: beta.refid, amount: 60, description: "c")

            let january1 = CivilDate(year: 2026, month: 1, day: 1), january2 = CivilDate(year: 2026, month: 1, day: 2)
            func figures() async throws -> [String] {
                try await database.read { tx in
                    let accounts = try ledger.activityByAccount(unit: .credits, in: tx).sorted { $0.owner < $1.owner }.map {
                        "\($0.owner) +\($0.totals.credited) -\($0.totals.debited) ×\($0.totals.debits) \($0.firstDay)…\($0.lastDay)"
                    }
                    let secondDay = try ledger.activityByAccount(unit: .credits, account: alpha.refid, from: january2, to: january2, in: tx)
                        .map { "\($0.owner) on day 2 -\($0.totals.debited) ×\($0.totals.debits)" }
                    let buckets = try ledger.activityByBucket(unit: .credits, from: january1, to: january2, interval: .daily, in: tx)
                        .sorted { $0.key < $1.key }.map { "\($0.key) +\($0.value.credited) -\($0.value.debited) ×\($0.value.debits)" }
                    let monthly = try ledger.activityByBucket(unit: .credits, account: beta.refid, from: january1, to: january2,
                                                              interval: .monthly, in: tx).map { "\($0.key) beta +\($0.value.credited)" }
                    let balances = try ledger.balancesByOwner(unit: .credits, in: tx).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                    return accounts + secondDay + buckets + monthly + balances
                }
            }
            let expected = [
                "RS-ALPHA +1000 -200 ×3 2026-01-01…2026-01-02", "RS-BETA +560 -0 ×0 2026-01-01…2026-01-02",
                "RS-ALPHA on day 2 -100 ×2",
                "2026-01-01 +1500 -100 ×1", "2026-01-02 +60 -100 ×2",
                "2026-01 beta +560",
                "RS-ALPHA=800", "RS-BETA=560",
            ]
            #expect(try await figures() == expected)  // nothing folded yet
            #expect(try await ledger.foldActivityIfBehind() == false)  // 6 transfers wait: below the threshold
            #expect(try await ledger.foldActivity() == 6)
            #expect(try await figures() == expected)
            #expect(try await ledger.foldActivity() == 0)

            try await ledger.transfer(from: beta.refid, to: revenue.refid, amount: 5, description: "d")
            let beta2 = try await database.read { tx in try ledger.activityByAccount(unit: .credits, account: beta.refid, in: tx) }
            #expect(beta2.map(\.totals) == [ActivityTotals(credited: 560, debited: 5, debits: 1)])
            #expect(try await ledger.foldActivity() == 1)
            let folded = try await database.read { tx in try ledger.activityByAccount(unit: .credits, account: beta.refid, in: tx) }
            #expect(folded == beta2)
        }
    }
}
