import Client
import Foundation
import SuiteCore
import SuiteStorage
import SuiteTestSupport
import Testing

@Suite struct ClientLifecycleTests {
    /// The README's transition table, written out independently of the code's.
    static let table: [ClientStatus: [ClientTransition: ClientStatus]] = [
        .pending: [.activate: .active, .deactivate: .inactive],
        .active: [.suspend: .suspended, .deactivate: .inactive],
        .suspended: [.deactivate: .inactive, .reinstate: .active],
        .inactive: [.reinstate: .active],
    ]

    @Test(arguments: Engine.allCases)
    func everyActionFollowsTheTransitionTableAndADeniedMoveWritesNothing(engine: Engine) async throws {
        try await engine.withClients { clients in
            var counter = 0
            for from in ClientStatus.allCases {
                for action in ClientTransition.allCases {
                    counter += 1
                    let client = try await clients.client(in: from, email: "c\(counter)@t.example")
                    let auditBefore = try await clients.auditTrail(of: client.refid).count
                    if let expected = Self.table[from]?[action] {
                        let moved = try await clients.transition(action, client.refid)
                        #expect(moved.status == expected, "\(action) from \(from)")
                        #expect(try await clients.find(client.refid).status == expected)
                        #expect(try await clients.auditTrail(of: client.refid).count == auditBefore + 1)
                    } else {
                        let error = await expectClientError(.statusTransitionDenied) {
                            try await clients.transition(action, client.refid)
                        }
                        #expect(error?.description.hasPrefix("Status Transition Denied") == true)
                        #expect(try await clients.find(client.refid).status == from)
                        #expect(try await clients.auditTrail(of: client.refid).count == auditBefore)
                    }
                }
            }
            // The rollup agrees with the table: every status count equals a direct count.
            let breakdown = try await clients.analytics().statusBreakdown()
            for status in ClientStatus.allCases {
                let direct = try await clients.query().status(status).limit(500).fetch().items.count
                #expect(breakdown[status] == Int64(direct), "\(status)")
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aTransitionRecordsWhoWhenFromToAndWhyAndPublishesAnEventAfterCommit(engine: Engine) async throws {
        let events = DomainEventBus()
        let stream = events.subscribe()
        let clock = ManualWallClock(now: referenceDate)
        try await engine.withClients(clock: clock, events: events) { clients in
            let client = try await clients.make().name("Acme").email("a@acme.example").create(actor: "signup-form")
            clock.advance(by: 3600)
            try await clients.activate(client.refid, actor: "alice", reason: "paid")
            clock.advance(by: 3600)
            try await clients.suspend(client.refid, actor: "bob", reason: "chargeback")
            let trail = try await clients.auditTrail(of: client.refid)
            #expect(trail.map(\.event) == ["created", "activate", "suspend"])
            #expect(trail[1].fromStatus == .pending && trail[1].toStatus == .active)
            #expect(trail[2].actor == "bob" && trail[2].reason == "chargeback")
            #expect(trail[2].at == referenceDate.addingTimeInterval(7200))
            #expect(trail[0].actor == "signup-form")
            await _ = expectClientError(.validation) { try await clients.reinstate(client.refid, actor: "") }
        }
        var names: [String] = []
        var changes: [ClientStatusChanged] = []
        for await event in stream {
            names.append(event.name)
            if let change = event as? ClientStatusChanged { changes.append(change) }
            if names.count == 3 { break }
        }
        #expect(names == ["client.created", "client.status_changed", "client.status_changed"])
        #expect(changes.map(\.to) == [.active, .suspended])
        #expect(changes.last?.reason == "chargeback")
    }

    @Test(arguments: Engine.allCases)
    func concurrentActivationsOfOneClientLetExactlyOneWin(engine: Engine) async throws {
        try await engine.withClients(inMemory: false) { clients in
            let client = try await clients.make().name("Race").email("race@t.example").create()
            let wins = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        do {
                            try await clients.activate(client.refid)
                            return 1
                        } catch let error as ClientError where error.code == .statusTransitionDenied {
                            return 0
                        }
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(wins == 1)
            #expect(try await clients.auditTrail(of: client.refid).filter { $0.event == "activate" }.count == 1)
            #expect(try await clients.analytics().statusBreakdown()[.active] == 1)
            #expect(try await clients.analytics().statusBreakdown()[.pending] == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func unknownRefidsAreNotFoundForEveryAction(engine: Engine) async throws {
        try await engine.withClients { clients in
            for action in ClientTransition.allCases {
                await _ = expectClientError(.notFound) { try await clients.transition(action, Refid(rawValue: "CL-MISSING")) }
            }
            await _ = expectClientError(.notFound) { try await clients.auditTrail(of: Refid(rawValue: "CL-MISSING")) }
        }
    }
}

@Suite struct UserBindingTests {
    static let users = KnownUsers(accounts: [
        UserAccount(id: "u-1", email: "one@t.example"), UserAccount(id: "u-2", email: "two@t.example"),
    ])

    @Test(arguments: Engine.allCases)
    func aUserBindsToAtMostOneClientAndAClientToAtMostOneUser(engine: Engine) async throws {
        try await engine.withClients(users: Self.users) { clients in
            let a = try await clients.make().name("A").email("a@t.example").create()
            let b = try await clients.make().name("B").email("b@t.example").create()
            #expect(try await clients.bindUser("u-1", to: a.refid).userID == "u-1")
            #expect(try await clients.bindUser("u-1", to: a.refid).userID == "u-1")  // idempotent
            await _ = expectClientError(.alreadyBound) { try await clients.bindUser("u-1", to: b.refid) }
            await _ = expectClientError(.alreadyBound) { try await clients.bindUser("u-2", to: a.refid) }
            await _ = expectClientError(.invalidUser) { try await clients.bindUser("u-404", to: b.refid) }
            #expect(try await clients.findByUser("u-1")?.refid == a.refid)
            try await clients.unbindUser(from: a.refid)
            await _ = expectClientError(.notBound) { try await clients.unbindUser(from: a.refid) }
            #expect(try await clients.bindUser("u-1", to: b.refid).userID == "u-1")
            #expect(try await clients.find(a.refid).userID == nil)
            let events = try await clients.auditTrail(of: a.refid).map(\.event)
            #expect(events == ["created", "bind_user", "unbind_user"])
        }
    }

    @Test(arguments: Engine.allCases)
    func autoBindBindsTheUserWithTheClientsEmailOnCreation(engine: Engine) async throws {
        let configuration = try ClientConfiguration(autoBindUser: true)
        try await engine.withClients(configuration: configuration, users: Self.users) { clients in
            let bound = try await clients.make().name("One").email(" ONE@t.example").create()
            #expect(bound.userID == "u-1")
            let unbound = try await clients.make().name("Nobody").email("nobody@t.example").create()
            #expect(unbound.userID == nil)
            let explicit = try await clients.make().name("Two").email("other@t.example").user("u-2").create()
            #expect(explicit.userID == "u-2")
            await _ = expectClientError(.alreadyBound) {
                try await clients.make().name("Two again").email("two-again@t.example").user("u-2").create()
            }
        }
        try await engine.withClients(users: Self.users) { clients in
            let notAuto = try await clients.make().name("One").email("one@t.example").create()
            #expect(notAuto.userID == nil)
        }
    }
}
