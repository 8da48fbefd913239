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
