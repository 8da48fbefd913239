import Foundation
import Synchronization

/// A fact that happened in a module, published after the transaction that caused it committed.
public protocol DomainEvent: Sendable {
    /// A stable machine name, e.g. `client.status_changed`.
    var name: String { get }
}

/// Fan-out of domain events to subscribers. Events are delivered only after commit, so a
/// subscriber never sees an event for a change that was rolled back.
///
/// ```swift
/// let events = DomainEventBus()
/// let stream = events.subscribe()
/// Task { for await event in stream { print(event.name) } }
/// ```
public final class DomainEventBus: Sendable {
    private let subscribers = Mutex<[UUID: AsyncStream<any DomainEvent>.Continuation]>([:])

    /// A bus with no subscribers.
    public init() {}

    /// A stream of every event published from now on. Ends when the stream is dropped.
    public func subscribe(bufferingNewest limit: Int = 10_000) -> AsyncStream<any DomainEvent> {
        let (stream, continuation) = AsyncStream<any DomainEvent>.makeStream(bufferingPolicy: .bufferingNewest(limit))
        let id = UUID()
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    /// Delivers `event` to every current subscriber.
    public func publish(_ event: any DomainEvent) {
        let targets = subscribers.withLock { Array($0.values) }
        for continuation in targets { continuation.yield(event) }
    }

    /// Delivers several events in order.
    public func publish(_ events: [any DomainEvent]) {
        guard !events.isEmpty else { return }
        let targets = subscribers.withLock { Array($0.values) }
        for event in events {
            for continuation in targets { continuation.yield(event) }
        }
    }
}
