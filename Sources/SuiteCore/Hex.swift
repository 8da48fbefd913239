/// `bytes` as lower-case hexadecimal, two digits per byte, through a lookup table — the encoding
/// of every stored digest (ledger fingerprints, licence key digests) and of webhook signatures.
/// (`String(format: "%02x")` per byte cost ≈ 40 µs per ledger transfer, measured.)
public func lowercaseHex(_ bytes: some Sequence<UInt8>) -> String {
    if let text = bytes.withContiguousStorageIfAvailable({ lowercaseHex(UnsafeRawBufferPointer($0)) }) { return text }
    return Array(bytes).withUnsafeBytes { lowercaseHex($0) }
}

/// The same for raw memory — a digest's `withUnsafeBytes`, say — written straight into the
/// string's storage.
public func lowercaseHex(_ bytes: UnsafeRawBufferPointer) -> String {
    String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        var index = 0
        for byte in bytes {
            out[index] = hexDigits[Int(byte >> 4)]
            out[index + 1] = hexDigits[Int(byte & 0x0F)]
            index += 2
        }
        return index
    }
}

/// Lower-case hex digits as ASCII bytes (also the `\u00xx` escapes of ``JSONTextWriter``).
let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// The 64-bit FNV-1a hash of `text`'s UTF-8 bytes: stable across processes and runs (unlike
/// `Hasher`), for choices every process must make alike, such as a spender's revenue stripe or a
/// prepared statement's name. Not a cryptographic digest.
public func fnv1a64(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x0000_0100_0000_01b3
    }
    return hash
}
