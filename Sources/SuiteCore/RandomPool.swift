import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Randomness from the operating system's CSPRNG (`/dev/urandom` on Linux, `arc4random_buf`
/// on Darwin), fetched 4 KiB at a time and handed out a word
/// at a time: a refid needs three words, and `SystemRandomNumberGenerator` makes one system call
/// per word (about a microsecond each, a tenth of a provision's work inside its transaction). A
/// word is cleared from the pool once handed out, and the pool is refilled from the same source,
/// as OpenSSL's and BoringSSL's generators buffer theirs.
struct PooledSystemRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 { RandomPool.shared.next() }
}

final class RandomPool: Sendable {
    static let shared = RandomPool()

    private static let words = 512
    private let state = Mutex<(words: [UInt64], next: Int)>(([UInt64](repeating: 0, count: RandomPool.words), RandomPool.words))

    func next() -> UInt64 {
        state.withLock { state in
            if state.next == state.words.count {
                Self.fill(&state.words)
                state.next = 0
            }
            defer {
                state.words[state.next] = 0
                state.next += 1
            }
            return state.words[state.next]
        }
    }

    private static func fill(_ words: inout [UInt64]) {
        words.withUnsafeMutableBytes { buffer in
            #if canImport(Glibc) || canImport(Musl)
            // The kernel's CSPRNG, as getrandom(2) reads it (the C library's module does not export getrandom).
            let device = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
            if device >= 0 {
                defer { close(device) }
                var filled = 0
                while filled < buffer.count {
                    let got = read(device, buffer.baseAddress! + filled, buffer.count - filled)
                    if got > 0 { filled += got } else if got < 0 && errno == EINTR { continue } else { break }
                }
                if filled == buffer.count { return }
            }
            #elseif canImport(Darwin)
            arc4random_buf(buffer.baseAddress!, buffer.count)
            return
            #endif
            // No bulk source: one word at a time from the standard library's CSPRNG.
            var system = SystemRandomNumberGenerator()
            for index in 0..<(buffer.count / 8) { buffer.storeBytes(of: system.next(), toByteOffset: index * 8, as: UInt64.self) }
        }
    }
}
