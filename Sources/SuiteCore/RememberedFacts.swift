import Synchronization

/// Values remembered by key, for facts that never change once committed — a row's id, a system
/// account's refid — so a module need not read them again. Past `capacity` entries the map starts
/// again empty: a forgotten fact is only read again, never wrong.
///
/// Remember a fact only after the transaction that read or created it has committed
/// (`tx.afterCommit { facts.remember(value, for: key) }`), so a rolled-back row is never known.
public final class RememberedFacts<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// The most facts kept before the map starts again empty (at least 1).
    public let capacity: Int
    @usableFromInline let state = Mutex<[Key: Value]>([:])

    /// An empty map holding up to `capacity` facts.
    @inlinable public init(capacity: Int = 50_000) {
        self.capacity = max(1, capacity)
    }

    /// The fact remembered for `key`, or nil if it is not known (or was forgotten).
    @inlinable public subscript(key: Key) -> Value? {
        state.withLock { $0[key] }
    }

    /// Remembers `value` for `key`, emptying the map first when it is full.
    @inlinable public func remember(_ value: Value, for key: Key) {
        state.withLock { state in
            if state.count >= capacity { state = [:] }
            state[key] = value
        }
    }
}
