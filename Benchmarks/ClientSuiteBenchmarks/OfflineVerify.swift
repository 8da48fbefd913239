import Crypto
import Forge
import Foundation
import SuiteCore

// Offline licence verification against the bare Ed25519 check it is built on. Target: the
// offline verify rate is at least 80% of the bare rate measured in the same run.
//
// Both loops check the same 64-byte signature over a message of the same size: the bare loop
// calls `Curve25519.Signing.PublicKey.isValidSignature(_:for:)` on the token's signed bytes; the
// offline loop calls `OfflineLicenceVerifier.verify(_:)` on the token text (format check, base64url
// decoding, key lookup, the same Ed25519 check, claims parsing, expiry against the clock).

/// Verifications per second, bare Ed25519 and `OfflineLicenceVerifier.verify(_:)`, each the best
/// of 3 rounds of `iterations` calls after an untimed warm-up.
///
/// Within a round the two loops alternate in short chunks, so that both see the same machine:
/// on a shared box a load spike then slows both figures instead of skewing the ratio.
func measureOfflineVerify(iterations: Int) -> (bareEd25519PerSecond: Double, offlineVerifyPerSecond: Double) {
    precondition(iterations > 0, "offline verify benchmark needs at least one iteration")
    let fixture = OfflineVerifyFixture()
    let chunk = min(iterations, 200)

    let warmup = max(iterations / 10, 1)
    _ = fixture.bareRound(warmup)
    _ = fixture.offlineRound(warmup)

    var best = (bare: Double.infinity, offline: Double.infinity)
    for _ in 0..<3 {
        var round = (bare: 0.0, offline: 0.0)
        var done = 0
        while done < iterations {
            let count = min(chunk, iterations - done)
            round.bare += fixture.bareRound(count)
            round.offline += fixture.offlineRound(count)
            done += count
        }
        best.bare = min(best.bare, round.bare)
        best.offline = min(best.offline, round.offline)
    }
    return (Double(iterations) / best.bare, Double(iterations) / best.offline)
}

/// A real token, its verifier, and the same signed bytes and signature for the bare check.
private struct OfflineVerifyFixture {
    let token: String
    let verifier: OfflineLicenceVerifier
    let publicKey: Curve25519.Signing.PublicKey
    let signedBytes: [UInt8]
    let signature: [UInt8]

    init() {
        do {
            let key = try LicenceSigningKey.generate(id: "bench-2025")
            let claims = LicenceClaims(
                licence: Refid.generate(prefix: "LC-"), product: "PRO-1Y", client: Refid.generate(prefix: "CL-"),
                expiresAt: nil, keyID: key.id, issuedAt: SystemWallClock().now(), notAfter: nil)
            token = try LicenceSigner(key: key).sign(claims)
            verifier = OfflineLicenceVerifier(publicKeys: [key.publicKey])
            publicKey = key.privateKey.publicKey
            // CSL1.<claims>.<signature>: the signature covers everything before the last dot.
            let utf8 = Array(token.utf8)
            let lastDot = utf8.lastIndex(of: UInt8(ascii: "."))!
            signedBytes = Array(utf8[..<lastDot])
            signature = Array(try key.privateKey.signature(for: signedBytes))
        } catch {
            fatalError("offline verify benchmark: cannot make a token: \(error)")
        }
        precondition(verifier.verify(token).isValid, "offline verify benchmark: the token does not verify")
        precondition(publicKey.isValidSignature(signature, for: signedBytes), "offline verify benchmark: bare signature invalid")
    }

    /// Seconds for `count` bare Ed25519 checks.
    func bareRound(_ count: Int) -> Double {
        var accepted = 0
        let seconds = offlineVerifySeconds {
            for _ in 0..<count where publicKey.isValidSignature(signature, for: signedBytes) { accepted += 1 }
        }
        // Counting the results keeps the optimiser from dropping the calls.
        precondition(accepted == count, "bare Ed25519 check failed during the benchmark")
        return seconds
    }

    /// Seconds for `count` offline verifications of the token.
    func offlineRound(_ count: Int) -> Double {
        var accepted = 0
        let seconds = offlineVerifySeconds {
            for _ in 0..<count where verifier.verify(token).isValid { accepted += 1 }
        }
        precondition(accepted == count, "offline verification failed during the benchmark")
        return seconds
    }
}

/// Wall time of `body` in seconds, on the monotonic clock.
private func offlineVerifySeconds(_ body: () -> Void) -> Double {
    let elapsed = ContinuousClock().measure(body)
    let (seconds, attoseconds) = elapsed.components
    return Double(seconds) + Double(attoseconds) * 1e-18
}
