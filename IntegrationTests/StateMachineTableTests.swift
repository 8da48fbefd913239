import Ally
import Client
import Forge
import Foundation
import SuiteStorage
import Testing
import Wallet
import Wave

/// The six lifecycles share one shape, and the DocC article "State machines" prints each table
/// exactly as the code has it: change a rule without the article (or the article without the
/// rule) and this fails.
@Suite struct StateMachineTableTests {
    static let article: String = {
        let root = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appending(path: "Sources/SuiteStorage/Documentation.docc/StateMachines.md")
        return (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    }()

    static let tables: [(name: String, markdown: String)] = [
        ("client", ClientTransition.table.markdown),
        ("licence", LicenceTransition.table.markdown),
        ("reseller", ResellerTransition.table.markdown),
        ("invoice", InvoiceTransition.table.markdown),
        ("subscription", SubscriptionTransition.table.markdown),
        ("hold", HoldTransition.table.markdown),
        ("account standing", AccountTransition.table.markdown),
    ]

    @Test(arguments: tables.map(\.name))
    func theArticlePrintsTheTableTheCodeHas(machine: String) throws {
        let markdown = try #require(Self.tables.first { $0.name == machine }?.markdown)
        #expect(!Self.article.isEmpty)
        #expect(Self.article.contains(markdown + "\n"), "the article's \(machine) table differs from the code's:\n\(markdown)")
    }

    @Test func theFinalStatesFollowFromTheTables() {
        #expect(ClientTransition.table.finalStates.isEmpty)
        #expect(ResellerTransition.table.finalStates.isEmpty)
        #expect(LicenceTransition.table.finalStates == [.revoked])
        #expect(InvoiceTransition.table.finalStates == [.paid, .void])
        #expect(InvoiceStatus.allCases.filter(\.isFinal) == [.paid, .void])
        #expect(SubscriptionTransition.table.finalStates == [.canceled])
        #expect(SubscriptionStatus.allCases.filter(\.isFinal) == [.canceled])
        #expect(HoldTransition.table.finalStates == [.captured, .voided, .expired])
        #expect(AccountTransition.table.finalStates.isEmpty)
    }
}
