import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
@testable import Wave

@Suite struct InvoiceTests {
    @Test(arguments: Engine.allCases)
    func anInvoiceIsNumberedTotalledFoundAndAudited(engine: Engine) async throws {
        try await engine.withWave { wave in
            try await wave.products.create(name: "Pro", slug: "pro-1y", price: 4_900, currency: "USD", licenceDays: 365)
            let acme = try await wave.client("Acme")
            let invoice = try await wave.invoices.make().for(acme.refid).currency("USD")
                .line("Pro licence", amount: 4_900, quantity: 2, product: "pro-1y").line("Setup", amount: 1_000)
                .description("Order 42").due(inDays: 14).create(actor: "billing")
            #expect(Refid.isWellFormed(invoice.refid.rawValue, prefix: "IN-"))
            #expect(invoice.number == "INV-2026-0001" && invoice.total == 10_800 && invoice.status == .open)
            #expect(invoice.lines.map(\.amount) == [9_800, 1_000] && invoice.lines[0].product == "pro-1y")
            #expect(invoice.dueAt == waveStart.addingTimeInterval(.days(14)))
            let second = try await wave.invoices.make().for(acme.refid).currency("USD").amount(500).description("Support").dueNow().create()
            #expect(second.number == "INV-2026-0002" && second.lines.map(\.description) == ["Support"] && second.dueAt == waveStart)
            #expect(try await wave.invoices.find(invoice.refid) == invoice)
            #expect(try await wave.invoices.findByNumber("INV-2026-0002") == second)
            #expect(try await wave.invoices.findByNumber("INV-2026-0003") == nil)
            let page = try await wave.invoices.getByClient(acme.refid, limit: 1)
            #expect(page.items.map(\.refid) == [invoice.refid] && page.nextCursor == Cursor(after: invoice.refid))
            let rest = try await wave.invoices.getByClient(acme.refid, limit: 1, after: page.nextCursor)
            #expect(rest.items.map(\.refid) == [second.refid] && rest.nextCursor == nil)
            let other = try await wave.client("Other")
            #expect(try await wave.invoices.getByClient(other.refid).items.isEmpty)
            let trail = try await wave.invoices.auditTrail(of: invoice.refid)
            #expect(trail.map(\.event) == ["created"] && trail[0].toStatus == .open && trail[0].actor == "billing")
            // A new year starts again at 0001.
            wave.clock.set(Date(timeIntervalSince1970: 1_798_761_600))  // 2027-01-01T00:00:00Z
            let next = try await wave.invoices.make().for(acme.refid).currency("USD").amount(100).create()
            #expect(next.number == "INV-2027-0001")
        }
    }

    @Test func numbersHaveAtLeastFourDigits() {
        #expect(Invoices.number(year: 2026, sequence: 1) == "INV-2026-0001")
        #expect(Invoices.number(year: 2026, sequence: 9_999) == "INV-2026-9999")
        #expect(Invoices.number(year: 2026, sequence: 12_345) == "INV-2026-12345")
    }

    @Test func theTransitionTableIsExplicit() {
        let allowed: [InvoiceTransition: Set<InvoiceStatus>] = [
            .pay: [.open, .uncollectible], .void: [.open, .uncollectible], .markUncollectible: [.open],
        ]
        for transition in InvoiceTransition.allCases {
            for status in InvoiceStatus.allCases {
                #expect(transition.isAllowed(from: status) == allowed[transition]!.contains(status), "\(transition) from \(status)")
            }
        }
        #expect(InvoiceStatus.allCases.filter(\.isFinal) == [.paid, .void])
    }

    @Test(arguments: Engine.allCases)
    func statusMovesFollowTheTableAndAreAudited(engine: Engine) async throws {
        try await engine.withWave { wave in
            let acme = try await wave.client("Acme")
            let make = { try await wave.invoices.make().for(acme.refid).currency("USD").amount(1_000).create() }
            let first = try await make()
            let writtenOff = try await wave.invoices.markUncollectible(first.refid, actor: "collections", reason: "no answer")
            #expect(writtenOff.status == .uncollectible)
            await expectWaveError(.statusTransitionDenied) { try await wave.invoices.markUncollectible(first.refid) }
            #expect(try await wave.invoices.void(first.refid, actor: "collections", reason: "settled").status == .void)
            await expectWaveError(.statusTransitionDenied) { try await wave.invoices.void(first.refid) }
            await expectWaveError(.statusTransitionDenied) { try await wave.invoices.attemptPayment(first.refid) }
            await expectWaveError(.statusTransitionDenied) {
                try await wave.invoices.markAsPaid(first.refid, driver: "wire", transactionId: "T-1")
            }
            let trail = try await wave.invoices.auditTrail(of: first.refid)
            #expect(trail.map(\.event) == ["created", "mark_uncollectible", "void"])
            #expect(trail.map(\.toStatus) == [.open, .uncollectible, .void] && trail[1].fromStatus == .open)
            #expect(trail[1].actor == "collections" && trail[1].reason == "no answer")

            // Uncollectible → paid: a late payment still settles a written-off invoice.
            let late = try await make()
            try await wave.invoices.markUncollectible(late.refid)
            try await wave.invoices.markAsPaid(late.refid, driver: "cheque", transactionId: "CHQ-7")
            #expect(try await wave.invoices.find(late.refid).status == .paid)
            await expectWaveError(.statusTransitionDenied) { try await wave.invoices.void(late.refid) }
            await expectWaveError(.statusTransitionDenied) { try await wave.invoices.markUncollectible(late.refid) }
            #expect(try await wave.invoices.auditTrail(of: late.refid).map(\.event) == ["created", "mark_uncollectible", "pay"])
            await expectWaveError(.notFound) { try await wave.invoices.void(Refid(rawValue: "IN-NONE")) }
        }
    }

    @Test(arguments: Engine.allCases)
    func badInvoiceInputThrowsATypedErrorAndWritesNothing(engine: Engine) async throws {
        try await engine.withWave { wave in
            try await wave.products.create(name: "Euro", slug: "euro", price: 900, currency: "EUR")
            let retired = try await wave.products.create(name: "Old", slug: "old", price: 900, currency: "USD")
            try await wave.products.deactivate(retired.refid)
            let acme = try await wave.client("Acme")
            let gone = try await wave.client("Gone")
            try await wave.clients.deactivate(gone.refid)
            let base = wave.invoices.make().for(acme.refid).currency("USD")
            let before = try await wave.rowCounts()

            await expectWaveError(.invalidAmount) { try await base.line("Zero", amount: 0).create() }
            await expectWaveError(.invalidAmount) { try await base.line("Negative", amount: -100).create() }
            await expectWaveError(.invalidAmount) { try await base.amount(0).create() }
            await expectWaveError(.invalidAmount) { try await base.line("Huge", amount: Int64.max / 2 + 1, quantity: 2).create() }
            await expectWaveError(.invalidAmount) {
                try await base.line("Half", amount: Int64.max / 2 + 1).line("Half", amount: Int64.max / 2 + 1).create()
            }
            await expectWaveError(.validation) { try await base.line("None", amount: 100, quantity: 0).create() }
            await expectWaveError(.validation) { try await base.create() }
            await expectWaveError(.validation) { try await base.amount(100).line("Both", amount: 100).create() }
            await expectWaveError(.validation) { try await base.line("  ", amount: 100).create() }
            await expectWaveError(.validation) { try await base.amount(100).due(inDays: -1).create() }
            await expectWaveError(.validation) { try await wave.invoices.make().currency("USD").amount(100).create() }
            let tooMany = (0...Invoices.maximumLines).reduce(base) { builder, index in builder.line("Seat \(index)", amount: 100) }
            await expectWaveError(.validation) { try await tooMany.create() }
            let unknown = await expectWaveError(.invalidClient) {
                try await wave.invoices.make().for(Refid(rawValue: "CL-NOBODY")).currency("USD").amount(100).create()
            }
            #expect(unknown?.description == "Invalid Client: no client with refid CL-NOBODY")
            let inactive = await expectWaveError(.invalidClient) {
                try await wave.invoices.make().for(gone.refid).currency("USD").amount(100).create()
            }
            #expect(inactive?.description == "Invalid Client: the client is inactive")
            for currency in ["US", "credits", "EURO", "€€€"] {
                await expectWaveError(.invalidCurrency) { try await wave.invoices.make().for(acme.refid).currency(currency).amount(100).create() }
            }
            await expectWaveError(.invalidCurrency) { try await wave.invoices.make().for(acme.refid).amount(100).create() }
            let mismatch = await expectWaveError(.currencyMismatch) { try await base.line("Euro thing", amount: 900, product: "euro").create() }
            #expect(mismatch?.description == "Currency Mismatch: euro is priced in EUR, the invoice is in USD")
            await expectWaveError(.invalidProduct) { try await base.line("Old", amount: 900, product: "old").create() }
            await expectWaveError(.invalidProduct) { try await base.line("Ghost", amount: 900, product: "ghost").create() }
            #expect(try await wave.rowCounts() == before)

            // A transaction that rolls back returns its number: the next invoice is still 0001.
            let invoices = wave.invoices
            await #expect(throws: Abort.self) {
                try await wave.database.write { tx -> Int in
                    _ = try invoices.make().for(acme.refid).currency("USD").amount(100).create(in: tx)
                    throw Abort()
                }
            }
            #expect(try await base.amount(100).create().number == "INV-2026-0001")
        }
    }

    @Test(arguments: Engine.allCases)
    func twentyConcurrentInvoicesAreNumberedWithoutGapsOrDuplicates(engine: Engine) async throws {
        try await engine.withWave(inMemory: false) { wave in
            let acme = try await wave.client("Acme")
            let invoices = wave.invoices
            let numbers = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        try await invoices.make().for(acme.refid).currency("USD").line("Seat \(index)", amount: 100).create().number
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(numbers.sorted() == (1...20).map { Invoices.number(year: 2026, sequence: Int64($0)) })
            #expect(try await invoices.getByClient(acme.refid, limit: 500).items.count == 20)
        }
    }
}
