import SuiteStorage
import Testing

/// The shared state-machine shape on a machine of its own: the table is the only source of
/// `target`, `allowedSources`, the check, the final states and the rendered Markdown.
@Suite struct StateMachineTests {
    enum Door: String, CaseIterable, CustomStringConvertible {
        case opened, closed, locked, bricked
        var description: String { rawValue }
    }

    enum DoorMove: String, StateTransition {
        typealias State = Door
        case open, close, lock, unlock
        static let table = TransitionTable<DoorMove>([
            .open: .init(from: [.closed], to: .opened),
            .close: .init(from: [.opened], to: .closed),
            .lock: .init(from: [.opened, .closed], to: .locked),
            .unlock: .init(from: [.locked], to: .closed),
        ])
        var description: String { rawValue }
    }

    struct Denied: Error, Equatable {
        let move: DoorMove
        let from: Door
    }

    @Test func aMoveReadsItsTargetAndSourcesFromTheTable() {
        #expect(DoorMove.lock.target == .locked)
        #expect(DoorMove.lock.allowedSources == [.opened, .closed])
        #expect(DoorMove.open.isAllowed(from: .closed))
        #expect(!DoorMove.open.isAllowed(from: .locked))
        #expect(DoorMove.table.entries.map(\.move) == [.open, .close, .lock, .unlock])
    }

    @Test func theCheckReturnsTheTargetOrThrowsTheCallersTypedError() throws {
        #expect(try DoorMove.unlock.target(from: .locked) { Denied(move: $0, from: $1) } == .closed)
        let error = #expect(throws: Denied.self) { try DoorMove.open.target(from: .locked) { Denied(move: $0, from: $1) } }
        #expect(error == Denied(move: .open, from: .locked))
    }

    @Test func aStateNoMoveStartsFromIsFinal() {
        #expect(DoorMove.table.finalStates == [.bricked])
    }

    @Test func theTableRendersAsMarkdownWithSourcesInDeclarationOrder() {
        #expect(DoorMove.table.markdown == """
            | move | from | to |
            |---|---|---|
            | `open` | `closed` | `opened` |
            | `close` | `opened` | `closed` |
            | `lock` | `opened`, `closed` | `locked` |
            | `unlock` | `locked` | `closed` |
            """)
    }
}
