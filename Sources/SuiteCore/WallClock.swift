import Foundation
import Synchronization

/// Where the suite reads the time. Injected everywhere so that tests never sleep and never
/// depend on the wall clock.
///
/// ```swift
/// let clock = ManualWallClock(now: Date(timeIntervalSince1970: 1_700_000_000))
/// clock.advance(by: .days(1))
/// ```
public protocol WallClock: Sendable {
    /// The current instant.
    func now() -> Date
}

/// The real time, from the system.
public struct SystemWallClock: WallClock {
    /// The system clock.
    public init() {}
    /// The system's current time.
    public func now() -> Date { Date() }
}

/// A clock that moves only when told to. For tests and for seeding historical data.
public final class ManualWallClock: WallClock {
    private let current: Mutex<Date>

    /// A clock stopped at `now`.
    public init(now: Date) { current = Mutex(now) }

    /// The instant the clock was last set or advanced to.
    public func now() -> Date { current.withLock { $0 } }

    /// Moves the clock forward (or backward, with a negative interval).
    public func advance(by seconds: TimeInterval) { current.withLock { $0 += seconds } }

    /// Sets the clock to `date`.
    public func set(_ date: Date) { current.withLock { $0 = date } }
}

extension TimeInterval {
    /// `n` days in seconds.
    public static func days(_ n: Int) -> TimeInterval { TimeInterval(n) * 86_400 }
}

/// Milliseconds since the Unix epoch: how the suite stores instants, identically on every engine.
public struct Timestamp: Hashable, Sendable, Comparable, Codable {
    /// Milliseconds since 1970-01-01T00:00:00Z (negative before it).
    public var milliseconds: Int64

    /// The instant `milliseconds` after the Unix epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// `date`, rounded down to the millisecond.
    public init(_ date: Date) {
        milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// The instant as a `Date`.
    public var date: Date { Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000) }

    /// Whether `lhs` is earlier than `rhs`.
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// The UTC calendar day, as a day number since 1970-01-01.
    public var utcDay: Int64 {
        milliseconds >= 0 ? milliseconds / 86_400_000 : (milliseconds - 86_399_999) / 86_400_000
    }
}
