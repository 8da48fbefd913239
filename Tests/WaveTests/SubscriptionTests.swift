import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing
import Wallet
import Wave

extension WaveFixture {
    var subscriptions: Subscriptions { Subscriptions(invoices: invoices) }

    /// Rows in every table a plan or subscription write could touch.
    func subscriptionRowCounts() async throws -> [String: Int64] {
        let tables = ["wave_plans", "wave_plan_audit", "wave_subscriptions", "wave_subscription_audit", "wave_invoices",
                      "wave_invoice_audit", "wave_payments", "wave_checkout_sessions", "wallet_transfers"]
        return try await database.read { tx in
            var counts: [String: Int64] = [:]
            for table in tables { counts[table] = try tx.queryInt64(SQL(raw: "SELECT count(*) FROM \(table)")) ?? -1 }
            return counts
        }
    }

    func invoiceCount() async throws -> Int64 {
        try await database.read { tx in try tx.queryInt64("SELECT count(*) FROM wave_invoices") ?? -1 }
    }
}

/// 2028-01-31T10:30:00Z in milliseconds: a month end in a leap year, with a time of day.
private let january31 = Timestamp(milliseconds: CivilDate(year: 2028, month: 1, day: 31).dayNumber * 86_400_000 + 37_800_000)

private func day(_ timestamp: Timestamp) -> String { CivilDate(dayNumber: timestamp.utcDay).description }

@Suite struct SubscriptionTests {
    // MARK: Plans

    @Test(arguments: Engine.allCases)
    func badPlanInputThrowsATypedErrorAndWritesNothing(engine: Engine) async throws {
        try await engine.withWave { wave in
            let plans = wave.subscriptions.plans
            let pro = try await plans.create(name: "Pro", slug: "pro-monthly", price: 1_900, currency: "usd", interval: .monthly)
            #expect(Refid.isWellFormed(pro.refid.rawValue, prefix: "PL-") && pro.currency == "USD" && pro.isActive)
            let before = try await wave.subscriptionRowCounts()
            await expectWaveError(.validation) { try await plans.create(name: "X", slug: "Bad Slug", price: 1, currency: "USD", interval: .monthly) }
            await expectWaveError(.validation) { try await plans.create(name: " ", slug: "x", price: 1, currency: "USD", interval: .monthly) }
            await expectWaveError(.invalidAmount) { try await plans.create(name: "X", slug: "x", price: 0, currency: "USD", interval: .yearly) }
            await expectWaveError(.invalidAmount) { try await plans.create(name: "X", slug: "x", price: -5, currency: "USD", interval: .daily) }
            await expectWaveError(.invalidCurrency) { try await plans.create(name: "X", slug: "x", price: 1, currency: "credits", interval: .weekly) }
            let duplicate = await expectWaveError(.duplicateSlug) {
                try await plans.create(name: "Again", slug: "pro-monthly", price: 1, currency: "USD", interval: .monthly)
            }
            #expect(duplicate?.description == "Duplicate Slug: another plan already uses pro-monthly")
            #expect(try await wave.subscriptionRowCounts() == before)
            #expect(try await plans.findBySlug("pro-monthly") == pro)
            #expect(try await plans.list().items == [pro])
            let inactive = try await plans.deactivate(pro.refid, actor: "ops")
            #expect(!inactive.isActive)
            await expectWaveError(.statusTransitionDenied) { try await plans.deactivate(pro.refid) }
        }
    }

    // MARK: Periods

    @Test func monthlyAndYearlyPeriodsUseUTCCalendarArithmeticAndKeepTheAnchorDay() throws {
        // Jan 31 + 1 month is the end of February (29th in the leap year 2028), + 2 months is Mar 31 again.
        let monthly = (0...13).map { day(BillingInterval.monthly.advance(january31, by: Int64($0))!) }
        #expect(monthly == ["2028-01-31", "2028-02-29", "2028-03-31", "2028-04-30", "2028-05-31", "2028-06-30", "2028-07-31",
                            "2028-08-31", "2028-09-30", "2028-10-31", "2028-11-30", "2028-12-31", "2029-01-31", "2029-02-28"])
        // The time of day survives the calendar arithmetic.
        let february = try #require(BillingInterval.monthly.advance(january31, by: 1))
        #expect(february.milliseconds % 86_400_000 == 37_800_000)
        let leapDay = Timestamp(milliseconds: CivilDate(year: 2024, month: 2, day: 29).dayNumber * 86_400_000)
        #expect((1...4).map { day(BillingInterval.yearly.advance(leapDay, by: Int64($0))!) }
                == ["2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"])
        #expect(day(BillingInterval.weekly.advance(january31, by: 1)!) == "2028-02-07")
        #expect(day(BillingInterval.daily.advance(january31, by: 30)!) == "2028-03-01")
        #expect(BillingInterval.yearly.advance(january31, by: 10_000) == nil)
        #expect(BillingInterval.daily.advance(january31, by: .max) == nil)
    }

    @Test(arguments: Engine.allCases)
    func aMonthlySubscriptionAnchoredOnJanuary31RenewsAtEachMonthEnd(engine: Engine) async throws {
        try await engine.withWave { wave in
            wave.clock.set(january31.date)
            let acme = try await wave.client("Acme")
            try await wave.invoices.topUp(acme.refid, amount: 100_000, currency: "USD")
            let plan = try await wave.subscriptions.plans.create(name: "Pro", slug: "pro", price: 1_000, currency: "USD", interval: .monthly)
            let started = try await wave.subscriptions.start(client: acme.refid, plan: plan.refid)
            #expect(started.subscription.status == .active && day(Timestamp(started.subscription.currentPeriodEnd)) == "2028-02-29")
            var ends: [String] = []
            for _ in 0..<3 {
                let current = try await wave.subscriptions.find(started.subscription.refid)
                wave.clock.set(current.currentPeriodEnd)
                let report = try await wave.subscriptions.renewDue()
                #expect(report.renewed == 1 && report.paid == 1)
                let renewed = try await wave.subscriptions.find(started.subscription.refid)
                ends.append(day(Timestamp(renewed.currentPeriodEnd)))
            }
            #expect(ends == ["2028-03-31", "2028-04-30", "2028-05-31"])
            #expect(try await wave.invoiceCount() == 4)
        }
    }

    // MARK: Starting

    @Test(arguments: Engine.allCases)
    func aTrialInvoicesNothingUntilItEndsThenTheRenewalPaysFromTheWallet(engine: Engine) async throws {
        try await engine.withWave { wave in
            let events = wave.invoices.events.subscribe()
            let acme = try await wave.client("Acme")
            let plan = try await wave.subscriptions.plans.create(name: "Pro", slug: "pro", price: 1_900, currency: "USD", interval: .monthly)
            let started = try await wave.subscriptions.start(client: acme.refid, plan: plan.refid, trialDays: 14, actor: "signup")
            let trial = started.subscription
            #expect(started.invoice == nil && started.payment == nil)
            #expect(Refid.isWellFormed(trial.refid.rawValue, prefix: "SB-") && trial.status == .trialing)
            #expect(trial.trialEndsAt == waveStart.addingTimeInterval(.days(14)) && trial.currentPeriodEnd == trial.trialEndsAt)
            #expect(try await wave.subscriptions.hasActiveSubscription(acme.refid))
            #expect(try await wave.invoiceCount() == 0)
            // Not due yet: nothing happens.
            wave.clock.advance(by: .days(13))
            #expect(try await wave.subscriptions.renewDue() == RenewalReport())
            #expect(try await wave.invoiceCount() == 0)
            wave.clock.advance(by: .days(1))
            try await wave.invoices.topUp(acme.refid, amount: 5_000, currency: "USD")
            let report = try await wave.subscriptions.renewDue()
            #expect(report.renewed == 1 && report.paid == 1 && report.activated == 1 && report.pastDue == 0 && report.failed == 0)
            let active = try await wave.subscriptions.find(trial.refid)
            #expect(active.status == .active && active.currentPeriodStart == trial.trialEndsAt)
            #expect(day(Timestamp(active.currentPeriodEnd)) == "2026-04-15")
            let latest = try #require(active.latestInvoice)
            let invoice = try await wave.invoices.find(latest)
            #expect(invoice.status == .paid && invoice.total == 1_900 && invoice.client == acme.refid)
            #expect(invoice.lines.map(\.description) == ["Pro (2026-03-15 – 2026-04-15)"])
            #expect(try await wave.balance(acme.refid) == 3_100)
            let trail = try await wave.subscriptions.auditTrail(of: trial.refid)
            #expect(trail.map(\.event) == ["started", "renewed", "activate"])
            #expect(trail[0].actor == "signup" && trail[2].fromStatus == .trialing && trail[2].toStatus == .active)
            // Published after each commit, in order: start; renewal (invoice and period); payment; activation.
            var names: [String] = []
            for await event in events {
                names.append(event.name)
                if names.count == 5 { break }
            }
            #expect(names == ["wave.subscription_started", "wave.invoice_created", "wave.subscription_renewed", "wave.invoice_paid",
                              "wave.subscription_status_changed"])
        }
    }

    @Test(arguments: Engine.allCases)
    func startingWithoutATrialInvoicesAtOnceAndIsActiveOnlyWhenPaid(engine: Engine) async throws {
        try await engine.withWave { wave in
            let rich = try await wave.client("Rich"), broke = try await wave.client("Broke")
            try await wave.invoices.topUp(rich.refid, amount: 10_000, currency: "USD")
            let plan = try await wave.subscriptions.plans.create(name: "Pro", slug: "pro", price: 4_900, currency: "USD", interval: .yearly)
            let paid = try await wave.subscriptions.start(client: rich.refid, plan: plan.refid)
            #expect(paid.subscription.status == .active && paid.payment?.isPaid == true && paid.invoice?.status == .paid)
            #expect(day(Timestamp(paid.subscription.currentPeriodEnd)) == "2027-03-01")
            #expect(try await wave.subscriptions.hasActiveSubscription(rich.refid, plan: plan.refid))
            #expect(try await wave.subscriptions.auditTrail(of: paid.subscription.refid).map(\.event) == ["started", "activate"])

            let unpaid = try await wave.subscriptions.start(client: broke.refid, plan: plan.refid)
            guard case .failed(let failure)? = unpaid.payment else { Issue.record("expected failed, got \(String(describing: unpaid.payment))"); return }
            #expect(failure.code == .insufficientFunds && unpaid.subscription.status == .pastDue && unpaid.invoice?.status == .open)
            #expect(try await !wave.subscriptions.hasActiveSubscription(broke.refid))

            // Refused starts write nothing.
            let before = try await wave.subscriptionRowCounts()
            await expectWaveError(.alreadySubscribed) { try await wave.subscriptions.start(client: rich.refid, plan: plan.refid) }
            await expectWaveError(.invalidPlan) { try await wave.subscriptions.start(client: rich.refid, plan: Refid(rawValue: "PL-NOPE")) }
            await expectWaveError(.invalidClient) { try await wave.subscriptions.start(client: Refid(rawValue: "CL-NOPE"), plan: plan.refid) }
            await expectWaveError(.validation) { try await wave.subscriptions.start(client: rich.refid, plan: plan.refid, trialDays: -1) }
            await expectWaveError(.validation) { try await wave.subscriptions.start(client: rich.refid, plan: plan.refid, trialDays: 731) }
            try await wave.subscriptions.plans.deactivate(plan.refid)
            let other = try await wave.client("Other")
            let retired = await expectWaveError(.invalidPlan) { try await wave.subscriptions.start(client: other.refid, plan: plan.refid) }
            #expect(retired?.description == "Invalid Plan: pro is not for sale")
            var after = try await wave.subscriptionRowCounts()
            after["wave_plan_audit"]! -= 1  // the deactivation
            #expect(after == before)
            #expect(try await wave.subscriptions.getByClient(rich.refid).items.map(\.refid) == [paid.subscription.refid])
            #expect(try await wave.subscriptions.list().items.count == 2)
        }
    }

    // MARK: Renewal

    @Test(arguments: Engine.allCases)
    func fourConcurrentRenewalRunsInvoiceEachDueSubscriptionExactlyOnce(engine: Engine) async throws {
        try await engine.withWave(inMemory: false) { wave in
            let plan = try await wave.subscriptions.plans.create(name: "Pro", slug: "pro", price: 500, currency: "USD", interval: .weekly)
            var refids: [Refid] = []
            for index in 0..<6 {
                let client = try await wave.client("Client\(index)")
                if index % 2 == 0 { try await wave.invoices.topUp(client.refid, amount: 1_000, currency: "USD") }
                refids.append(try await wave.subscriptions.start(client: client.refid, plan: plan.refid, trialDays: 1).subscription.refid)
            }
            wave.clock.advance(by: .days(1))
            let subscriptions = wave.subscriptions
            let reports = try await withThrowingTaskGroup(of: RenewalReport.self) { group in
                for _ in 0..<4 { group.addTask { try await subscriptions.renewDue() } }
                return try await group.reduce(into: [RenewalReport]()) { $0.append($1) }
            }
            let total = reports.reduce(into: RenewalReport()) { $0.add($1) }
            #expect(total.renewed == 6 && total.paid == 3 && total.pastDue == 3 && total.activated == 3 && total.failed == 0)
            #expect(try await wave.invoiceCount() == 6)
            var invoices = Set<Refid>()
            for refid in refids {
                let subscription = try await subscriptions.find(refid)
                invoices.insert(try #require(subscription.latestInvoice))
                #expect(subscription.currentPeriodEnd == waveStart.addingTimeInterval(.days(8)))
                #expect(try await subscriptions.auditTrail(of: refid).filter { $0.event == "renewed" }.count == 1)
            }
            #expect(invoices.count == 6)
            let statuses = try await subscriptions.list().items.map(\.status)
            #expect(statuses == [.active, .pastDue, .active, .pastDue, .active, .pastDue])
            // Nothing is due any more.
            #expect(try await subscriptions.renewDue().renewed == 0)
            #expect(try await wave.invoiceCount() == 6)
            #expect(try await wave.invoices.ledger.reconcile().isClean)
        }
    }

    @Test(arguments: Engine.allCases)
    func aShortWalletMakesTheRenewalPastDueWithACheckoutAndAPaymentLaterReactivatesIt(engine: Engine) async throws {
        try await engine.withWave(gateway: true) { wave in
            let acme = try await wave.client("Acme")
            try await wave.invoices.topUp(acme.refid, amount: 1_000, currency: "USD")
            let plan = try await wave.subscriptions.plans.create(name: "Pro", slug: "pro", price: 1_000, currency: "USD", interval: .monthly)
            let started = try await wave.subscriptions.start(client: acme.refid, plan: plan.refid)
            #expect(started.subscription.status == .active)
            #expect(try await wave.balance(acme.refid) == 0)
            wave.clock.set(started.subscription.currentPeriodEnd)
            let report = try await wave.subscriptions.renewDue()
            #expect(report.renewed == 1 && report.paid == 0 && report.pastDue == 1)
            let pastDue = try await wave.subscriptions.find(started.subscription.refid)
            let invoice = try #require(pastDue.latestInvoice)
            #expect(pastDue.status == .pastDue && invoice != started.invoice?.refid)
            let sessions = try await wave.gateway.sessions(for: invoice)
            #expect(sessions.count == 1 && sessions.first?.amount == 1_000 && sessions.first?.status == .open)
            #expect(try await !wave.subscriptions.hasActiveSubscription(acme.refid))
            // Still unpaid: the next run waits (no new invoice, no new session, no status change).
            #expect(try await wave.subscriptions.renewDue() == RenewalReport())
            // The client pays; the next run reactivates without issuing anything.
            try await wave.invoices.markAsPaid(invoice, driver: "card", transactionId: "ch_1")
            let recovered = try await wave.subscriptions.renewDue()
            #expect(recovered.renewed == 0 && recovered.paid == 1 && recovered.activated == 1)
            #expect(try await wave.subscriptions.find(started.subscription.refid).status == .active)
            #expect(try await wave.invoiceCount() == 2)
            #expect(try await wave.subscriptions.auditTrail(of: started.subscription.refid).map(\.event)
                    == ["started", "activate", "renewed", "mark_past_due", "activate"])
        }
    }

    @Test(arguments: Engine.allCases)
    func theRenewalServiceRunsBatchesUntilNothingIsDue(engine: Engine) async throws {
        try await engine.withWave { wave in
            let plan = try await wave.subscriptions.plans.create(name: "Daily", slug: "daily", price: 100, currency: "USD", interval: .daily)
            for index in 0..<5 {
                let client = try await wave.client("Client\(index)")
                _ = try await wave.subscriptions.start(client: client.refid, plan: plan.refid, trialDays: 1)
            }
            wave.clock.advance(by: .days(1))
            let service = SubscriptionRenewalService(subscriptions: wave.subscriptions, batchSize: 2, logger: wave.subscriptions.logger)
            let report = await service.renewOnce()
            #expect(report.renewed == 5 && report.pastDue == 5)
            #expect(try await wave.invoiceCount() == 5)
            #expect(await service.renewOnce().renewed == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func aRenewalThatCannotInvoiceIsCountedAsFailedWritesNothingAndTheOthersStillRenew(engine: Engine) async throws {
        try await engine.withWave { wave in
            let gone = try await wave.client("Gone"), kept = try await wave.client("Kept")
            let plan = try await wave.subscriptions.plans.create(name: "Pro", slug: "pro", price: 100, currency: "USD", interval: .weekly)
            let doomed = try await wave.subscriptions.start(client: gone.refid, plan: plan.refid, trialDays: 1).subscription
            let fine = try await wave.subscriptions.start(client: kept.refid, plan: plan.refid, trialDays: 2).subscription
            try await wave.clients.deactivate(gone.refid)
            // Three periods late (trial end day 2, then days 9 and 16 ≤ 22): one period per run, each billed.
            wave.clock.advance(by: .days(22))
            let before = try await wave.subscriptionRowCounts()
            let report = try await wave.subscriptions.renewDue()
            #expect(report.failed == 1 && report.renewed == 1 && report.pastDue == 1)
            #expect(try await wave.subscriptions.find(doomed.refid) == doomed)
            let after = try await wave.subscriptionRowCounts()
            #expect(after["wave_invoices"] == before["wave_invoices"]! + 1)
            #expect(try await wave.subscriptions.renewDue().renewed == 1)
            #expect(try await wave.subscriptions.renewDue().renewed == 1)
            #expect(try await wave.subscriptions.renewDue().renewed == 0)
            let caughtUp = try await wave.subscriptions.find(fine.refid)
            #expect(caughtUp.currentPeriodEnd == waveStart.addingTimeInterval(.days(2 + 21)))
            #expect(try await wave.subscriptions.getByClient(kept.refid).items.first?.status == .pastDue)
            #expect(try await wave.invoices.getByClient(kept.refid).items.count == 3)
        }
    }

    // MARK: Cancelling

    @Test(arguments: Engine.allCases)
    func cancellingAtThePeriodEndKeepsAccessUntilThenWhileCancellingNowEndsItAtOnce(engine: Engine) async throws {
        try await engine.withWave { wave in
            let acme = try await wave.client("Acme"), beta = try await wave.client("Beta")
            let plan = try await wave.subscriptions.plans.create(name: "Pro", slug: "pro", price: 700, currency: "USD", interval: .monthly)
            let other = try await wave.subscriptions.plans.create(name: "Extra", slug: "extra", price: 100, currency: "USD", interval: .monthly)
            let later = try await wave.subscriptions.start(client: acme.refid, plan: plan.refid, trialDays: 7).subscription
            let now = try await wave.subscriptions.start(client: beta.refid, plan: plan.refid, trialDays: 7).subscription

            let scheduled = try await wave.subscriptions.cancel(later.refid, actor: "acme", reason: "too expensive")
            #expect(scheduled.status == .trialing && scheduled.cancelAtPeriodEnd && scheduled.canceledAt == nil)
            #expect(try await wave.subscriptions.cancel(later.refid) == scheduled)  // asking again changes nothing
            #expect(try await wave.subscriptions.hasActiveSubscription(acme.refid))
            #expect(try await wave.subscriptions.hasActiveSubscription(acme.refid, plan: plan.refid))
            #expect(try await !wave.subscriptions.hasActiveSubscription(acme.refid, plan: other.refid))

            let ended = try await wave.subscriptions.cancel(now.refid, atPeriodEnd: false, reason: "fraud")
            #expect(ended.status == .canceled && ended.canceledAt == waveStart)
            #expect(try await !wave.subscriptions.hasActiveSubscription(beta.refid))
            let before = try await wave.subscriptionRowCounts()
            let denied = await expectWaveError(.statusTransitionDenied) { try await wave.subscriptions.cancel(now.refid) }
            #expect(denied?.description == "Status Transition Denied: a canceled subscription cannot be canceled")
            await expectWaveError(.notFound) { try await wave.subscriptions.cancel(Refid(rawValue: "SB-NOPE")) }
            #expect(try await wave.subscriptionRowCounts() == before)

            wave.clock.advance(by: .days(7))
            let report = try await wave.subscriptions.renewDue()
            #expect(report.canceled == 1 && report.renewed == 0)
            #expect(try await wave.invoiceCount() == 0)
            let canceled = try await wave.subscriptions.find(later.refid)
            #expect(canceled.status == .canceled && canceled.canceledAt == waveStart.addingTimeInterval(.days(7)))
            #expect(try await !wave.subscriptions.hasActiveSubscription(acme.refid))
            let trail = try await wave.subscriptions.auditTrail(of: later.refid)
            #expect(trail.map(\.event) == ["started", "cancel_scheduled", "cancel"])
            #expect(trail[1].reason == "too expensive" && trail[2].reason == "canceled at period end")
            // A canceled subscription frees the plan for a new one.
            #expect(try await wave.subscriptions.start(client: acme.refid, plan: plan.refid, trialDays: 7).subscription.status == .trialing)
        }
    }

    // MARK: Schema

    @Test(arguments: Engine.allCases)
    func aVersionTwoWaveDatabaseUpgradesToSubscriptionsAndKeepsItsInvoices(engine: Engine) async throws {
        try await engine.withDatabase { database in
            try await Clients.install(on: database)
            let versionTwo = ModuleSchema(module: "wave", migrations: WaveModule.schema.migrations.filter { $0.version <= 2 })
            _ = try await SchemaInstaller.install([Ledger.schema, versionTwo], on: database)
            let clock = ManualWallClock(now: waveStart)
            let clients = Clients(database: database, configuration: try ClientConfiguration(defaultStatus: .active), clock: clock)
            let invoices = Invoices(database: database, clients: clients, clock: clock)
            // An invoice paid by v2 code, before the upgrade.
            let acme = try await clients.make().name("Acme").email("acme@example.com").create()
            try await invoices.topUp(acme.refid, amount: 5_000, currency: "USD")
            let old = try await invoices.make().for(acme.refid).currency("USD").amount(2_500).create()
            #expect(try await invoices.attemptPayment(old.refid).isPaid)

            let reports = try await WaveModule.install(on: database)
            #expect(reports.first { $0.module == "wave" }?.appliedVersions == [3])
            #expect(try await WaveModule.install(on: database).allSatisfy(\.appliedVersions.isEmpty))
            #expect(try await invoices.analytics().totals().revenue == ["USD": 2_500])
            let subscriptions = Subscriptions(invoices: invoices)
            let plan = try await subscriptions.plans.create(name: "Pro", slug: "pro", price: 1_000, currency: "USD", interval: .monthly)
            let started = try await subscriptions.start(client: acme.refid, plan: plan.refid)
            #expect(started.subscription.status == .active && started.invoice?.number == "INV-2026-0002")
        }
    }
}
