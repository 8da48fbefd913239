import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet
import Wave

@Suite struct RevenueAnalyticsTests {
    /// Pays an invoice of `amount` for `client` from its wallet, now.
    private func pay(_ wave: WaveFixture, _ client: Refid, _ amount: Int64, _ currency: String = "USD") async throws {
        let invoice = try await wave.invoices.make().for(client).currency(currency).amount(amount).create()
        #expect(try await wave.invoices.attemptPayment(invoice.refid).isPaid)
    }

    @Test(arguments: Engine.allCases)
    func revenueTrendsFillEmptyBucketsAndCanBeScopedToOneClient(engine: Engine) async throws {
        try await engine.withWave { wave in
            let acme = try await wave.client("Acme"), beta = try await wave.client("Beta")
            try await wave.invoices.topUp(acme.refid, amount: 10_000, currency: "USD")
            try await wave.invoices.topUp(beta.refid, amount: 10_000, currency: "USD")
            try await wave.invoices.topUp(beta.refid, amount: 10_000, currency: "EUR")
            try await pay(wave, acme.refid, 1_000)                      // 2026-03-01
            wave.clock.advance(by: .days(2) + 3_600 * 23)               // 2026-03-03T23:00Z
            try await pay(wave, beta.refid, 300)
            try await pay(wave, acme.refid, 200)
            wave.clock.set(waveStart.addingTimeInterval(.days(40)))    // 2026-04-10
            try await pay(wave, acme.refid, 500)
            try await pay(wave, beta.refid, 999, "EUR")
            _ = try await wave.invoices.make().for(acme.refid).currency("USD").amount(4_000).create()

            let march1 = CivilDate(year: 2026, month: 3, day: 1), march4 = CivilDate(year: 2026, month: 3, day: 4)
            let analytics = wave.invoices.analytics()
            let daily = try await analytics.daily().revenueTrends(from: march1, to: march4, currency: "usd")
            #expect(daily == [RevenueTrendPoint(bucket: "2026-03-01", amount: 1_000, payments: 1),
                              RevenueTrendPoint(bucket: "2026-03-02", amount: 0, payments: 0),
                              RevenueTrendPoint(bucket: "2026-03-03", amount: 500, payments: 2),
                              RevenueTrendPoint(bucket: "2026-03-04", amount: 0, payments: 0)])
            let acmeDaily = try await analytics.daily().forClient(acme.refid).revenueTrends(from: march1, to: march4, currency: "USD")
            #expect(acmeDaily.map(\.amount) == [1_000, 0, 200, 0])
            let monthly = try await analytics.revenueTrends(from: CivilDate(year: 2026, month: 2, day: 15),
                                                            to: CivilDate(year: 2026, month: 4, day: 30), currency: "USD")
            #expect(monthly.map(\.bucket) == ["2026-02", "2026-03", "2026-04"] && monthly.map(\.amount) == [0, 1_500, 500])
            let yearly = try await analytics.yearly().revenueTrends(from: march1, to: CivilDate(year: 2027, month: 1, day: 1),
                                                                    currency: "USD")
            #expect(yearly == [RevenueTrendPoint(bucket: "2026", amount: 2_000, payments: 4),
                               RevenueTrendPoint(bucket: "2027", amount: 0, payments: 0)])
            let euros = try await analytics.monthly().forClient(beta.refid).revenueTrends(from: march1, to: CivilDate(year: 2026, month: 4, day: 30),
                                                                                           currency: "EUR")
            #expect(euros.map(\.amount) == [0, 999])
            // A scope is a new value: the unscoped analytics still sees everyone.
            #expect(try await analytics.daily().revenueTrends(from: march1, to: march1, currency: "USD").first?.amount == 1_000)

            await expectWaveError(.validation) { try await analytics.revenueTrends(from: march4, to: march1, currency: "USD") }
            await expectWaveError(.invalidCurrency) { try await analytics.revenueTrends(from: march1, to: march4, currency: "dollars") }
            await expectWaveError(.validation) {
                try await analytics.daily().revenueTrends(from: march1, to: CivilDate(year: 2040, month: 1, day: 1), currency: "USD")
            }

            let totals = try await analytics.totals()
            #expect(totals.revenue == ["USD": 2_000, "EUR": 999] && totals.paidInvoices == 5)
            #expect(totals.openInvoices == 1 && totals.outstanding == ["USD": 4_000])
            let march = try await analytics.totals(from: CivilDate(year: 2026, month: 3, day: 3), to: CivilDate(year: 2026, month: 3, day: 31))
            #expect(march.revenue == ["USD": 500] && march.paidInvoices == 2 && march.openInvoices == 0)
            let acmeTotals = try await analytics.forClient(acme.refid).totals()
            #expect(acmeTotals.revenue == ["USD": 1_700] && acmeTotals.paidInvoices == 3 && acmeTotals.openInvoices == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func mrrNormalisesYearlyWeeklyAndDailyPlansToMonthsAndExcludesTrials(engine: Engine) async throws {
        try await engine.withWave { wave in
            let plans = wave.subscriptions.plans
            let monthly = try await plans.create(name: "M", slug: "m", price: 1_000, currency: "USD", interval: .monthly)
            let yearly = try await plans.create(name: "Y", slug: "y", price: 12_000, currency: "USD", interval: .yearly)
            let weekly = try await plans.create(name: "W", slug: "w", price: 300, currency: "USD", interval: .weekly)
            let daily = try await plans.create(name: "D", slug: "d", price: 100, currency: "USD", interval: .daily)
            let euro = try await plans.create(name: "E", slug: "e", price: 500, currency: "EUR", interval: .monthly)
            let tiny = try await plans.create(name: "T", slug: "t", price: 6, currency: "GBP", interval: .daily)
            var clients: [Refid] = []
            for index in 0..<8 { clients.append(try await wave.client("Client\(index)").refid) }
            for (index, currency) in [(0, "USD"), (1, "USD"), (3, "USD"), (6, "EUR"), (7, "GBP")] {
                try await wave.invoices.topUp(clients[index], amount: 20_000, currency: currency)
            }
            let subscriptions = wave.subscriptions
            #expect(try await subscriptions.start(client: clients[0], plan: monthly.refid).subscription.status == .active)
            #expect(try await subscriptions.start(client: clients[1], plan: yearly.refid).subscription.status == .active)
            #expect(try await subscriptions.start(client: clients[2], plan: weekly.refid).subscription.status == .pastDue)
            #expect(try await subscriptions.start(client: clients[3], plan: daily.refid).subscription.status == .active)
            #expect(try await subscriptions.start(client: clients[4], plan: monthly.refid, trialDays: 30).subscription.status == .trialing)
            let gone = try await subscriptions.start(client: clients[5], plan: monthly.refid, trialDays: 30).subscription
            try await subscriptions.cancel(gone.refid, atPeriodEnd: false)
            #expect(try await subscriptions.start(client: clients[6], plan: euro.refid).subscription.status == .active)
            #expect(try await subscriptions.start(client: clients[7], plan: tiny.refid).subscription.status == .active)

            // USD in twelfths: 1000×12 + 12000×1 + 300×52 + 100×365 = 76,100 → 6,341.67 → 6,342.
            let mrr = try await subscriptions.analytics().mrr()
            #expect(mrr == [
                MonthlyRecurringRevenue(currency: "EUR", amount: 500, pastDueAmount: 0, activeSubscriptions: 1, pastDueSubscriptions: 0),
                MonthlyRecurringRevenue(currency: "GBP", amount: 183, pastDueAmount: 0, activeSubscriptions: 1, pastDueSubscriptions: 0),
                MonthlyRecurringRevenue(currency: "USD", amount: 6_342, pastDueAmount: 1_300, activeSubscriptions: 3,
                                        pastDueSubscriptions: 1),
            ])
            // 6 a day × 365 / 12 = 182.5, rounded half up; one yearly plan is a twelfth of its price.
            #expect(try await subscriptions.analytics().forClient(clients[1]).mrr().map(\.amount) == [1_000])
            #expect(try await subscriptions.analytics().forClient(clients[4]).mrr().isEmpty)
        }
    }
}
