/// A move of one of the suite's state machines, whose rules are data: a ``TransitionTable``.
///
/// Every lifecycle in the suite has this shape: clients, licences, resellers, invoices,
/// subscriptions and holds. A move is an exhaustive enum; its table says, for every move, the
/// states it may start from and the one it ends in. The module checks a move with
/// ``target(from:orThrow:)`` before it writes anything, so an illegal move throws the module's
/// typed error and writes nothing. The article <doc:StateMachines> lists every table.
///
/// ```swift
/// enum DoorMove: String, StateTransition {
///     case open, close, lock
///     static let table = TransitionTable<DoorMove>([
///         .open: .init(from: [.closed], to: .opened),
///         .close: .init(from: [.opened], to: .closed),
///         .lock: .init(from: [.closed], to: .locked),
///     ])
///     var description: String { rawValue }
/// }
/// try DoorMove.lock.target(from: .opened) { move, state in DoorError.denied(move, state) }  // throws
/// ```
public protocol StateTransition: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The states the machine moves between.
    associatedtype State: Hashable, Sendable, CaseIterable, CustomStringConvertible
    /// The machine's rules: for every move, where it may start and where it ends.
    static var table: TransitionTable<Self> { get }
}

/// The rules of a state machine as data: for every move, the states it may start from and the
/// state it ends in.
public struct TransitionTable<Move: StateTransition>: Sendable {
    /// One move's rule.
    public struct Rule: Hashable, Sendable {
        /// The states the move may start from. From any other state the move is denied.
        public var from: Set<Move.State>
        /// The state the move ends in.
        public var to: Move.State

        /// A rule: the move may start from any state of `from` and ends in `to`.
        public init(from: Set<Move.State>, to: Move.State) {
            self.from = from
            self.to = to
        }
    }

    @usableFromInline let rules: [Move: Rule]

    /// The states no move starts from, in the order the states are declared.
    public let finalStates: [Move.State]

    /// A table with a rule for every move. A move without a rule is a programming error.
    public init(_ rules: [Move: Rule]) {
        for move in Move.allCases {
            precondition(rules[move] != nil, "the transition table has no rule for \(move)")
        }
        self.rules = rules
        finalStates = Move.State.allCases.filter { state in !rules.values.contains { $0.from.contains(state) } }
    }

    /// The rule of `move`.
    @inlinable public subscript(move: Move) -> Rule { rules[move]! }

    /// Every move with its rule, in the order the moves are declared.
    public var entries: [(move: Move, rule: Rule)] { Move.allCases.map { ($0, self[$0]) } }

    /// The table in Markdown, one row a move (`| move | from | to |`), as <doc:StateMachines>
    /// prints it. Sources are listed in the order the states are declared.
    public var markdown: String {
        let order = Array(Move.State.allCases)
        var lines = ["| move | from | to |", "|---|---|---|"]
        for (move, rule) in entries {
            let sources = order.filter(rule.from.contains).map { "`\($0)`" }.joined(separator: ", ")
            lines.append("| `\(move)` | \(sources) | `\(rule.to)` |")
        }
        return lines.joined(separator: "\n")
    }
}

extension StateTransition {
    /// The state this move ends in.
    @inlinable public var target: State { Self.table[self].to }

    /// The states this move may start from; from any other, the move is denied.
    @inlinable public var allowedSources: Set<State> { Self.table[self].from }

    /// Whether this move may start from `state`.
    @inlinable public func isAllowed(from state: State) -> Bool { Self.table[self].from.contains(state) }

    /// The state this move ends in when it starts from `state`; when the table denies the move,
    /// the error that `denied` builds (the module's typed error) is thrown instead.
    @discardableResult @inlinable
    public func target<Failure: Error>(from state: State, orThrow denied: (Self, State) -> Failure) throws(Failure) -> State {
        let rule = Self.table[self]
        guard rule.from.contains(state) else { throw denied(self, state) }
        return rule.to
    }
}
