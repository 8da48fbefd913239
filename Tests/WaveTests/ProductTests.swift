import Client
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
@testable import Wave

@Suite struct ProductTests {
    @Test func theModuleIsNamedWaveAndInstallsItsSchema() {
        #expect(WaveModule.name == "wave" && WaveModule.schema.module == "wave")
        #expect(WaveModule.schema.migrations.map(\.version) == [1, 2, 3] && WaveModule.schema.latestVersion == 3)
    }

    @Test(arguments: Engine.allCases)
    func productsAreValidatedFoundListedAndDeactivated(engine: Engine) async throws {
        try await engine.withWave { wave in
            let products = wave.products
            let pro = try await products.create(name: " Pro (1 year) ", slug: "pro-1y", price: 4_900, currency: "usd", licenceDays: 365)
            #expect(Refid.isWellFormed(pro.refid.rawValue, prefix: "PR-"))
            #expect(pro.name == "Pro (1 year)" && pro.currency == "USD" && pro.isActive && pro.licenceDays == 365)
            #expect(try await products.find(pro.refid) == pro)
            #expect(try await products.findBySlug("pro-1y") == pro)
            let before = try await wave.rowCounts()
            for slug in ["Pro-1Y", "pro 1y", "-pro", "pro-", "", String(repeating: "a", count: 65), "pro_1y"] {
                await expectWaveError(.validation) { try await products.create(name: "X", slug: slug, price: 1, currency: "USD") }
            }
            await expectWaveError(.validation) { try await products.create(name: "  ", slug: "x", price: 1, currency: "USD") }
            await expectWaveError(.invalidAmount) { try await products.create(name: "X", slug: "x", price: 0, currency: "USD") }
            await expectWaveError(.invalidAmount) { try await products.create(name: "X", slug: "x", price: -5, currency: "USD") }
            for currency in ["US", "USDT", "credits", "U$D", ""] {
                await expectWaveError(.invalidCurrency) { try await products.create(name: "X", slug: "x", price: 1, currency: currency) }
            }
            await expectWaveError(.validation) { try await products.create(name: "X", slug: "x", price: 1, currency: "USD", licenceDays: 0) }
            await expectWaveError(.duplicateSlug) { try await products.create(name: "Other", slug: "pro-1y", price: 1, currency: "USD") }
            #expect(try await wave.rowCounts() == before)

            let life = try await products.create(name: "Lifetime", slug: "life", price: 19_900, currency: "EUR")
            let first = try await products.list(limit: 1)
            #expect(first.items.map(\.refid) == [pro.refid] && first.nextCursor == Cursor(after: pro.refid))
            let second = try await products.list(limit: 1, after: first.nextCursor)
            #expect(second.items.map(\.refid) == [life.refid] && second.nextCursor == nil)

            let retired = try await products.deactivate(pro.refid, actor: "catalogue")
            #expect(!retired.isActive)
            await expectWaveError(.statusTransitionDenied) { try await products.deactivate(pro.refid) }
            await expectWaveError(.notFound) { try await products.deactivate(Refid(rawValue: "PR-NONE")) }
            // Forge's view: the slug is the product code.
            let summaries = try await wave.database.read { tx in
                (try products.product("pro-1y", in: tx), try products.product("life", in: tx), try products.product("nope", in: tx))
            }
            #expect(summaries.0 == ProductSummary(code: "pro-1y", name: "Pro (1 year)", isActive: false, licenceDays: 365))
            #expect(summaries.1 == ProductSummary(code: "life", name: "Lifetime", isActive: true, licenceDays: nil))
            #expect(summaries.2 == nil)
        }
    }
}
