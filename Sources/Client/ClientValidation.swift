/// Field rules for clients. Pure functions: they run before any write.
enum ClientValidation {
    static func name(_ raw: String?) throws -> String {
        let name = (raw ?? "").trimmingWhitespace
        guard !name.isEmpty else { throw ClientError.invalid("name", "required") }
        guard name.count <= 255 else { throw ClientError.invalid("name", "at most 255 characters") }
        guard !name.containsControlCharacters else { throw ClientError.invalid("name", "must not contain control characters") }
        return name
    }

    /// Returns the trimmed email (as given) and its normalised form (lower-cased) used for uniqueness.
    static func email(_ raw: String?) throws -> (email: String, normalized: String) {
        let email = (raw ?? "").trimmingWhitespace
        guard !email.isEmpty else { throw ClientError.invalid("email", "required") }
        guard isValidEmail(email) else { throw ClientError.invalid("email", "not a valid email address") }
        return (email, email.lowercased())
    }

    static func phone(_ raw: String?) throws -> String? {
        guard let raw else { return nil }
        let phone = raw.trimmingWhitespace
        if phone.isEmpty { return nil }
        guard phone.count <= 32 else { throw ClientError.invalid("phone", "at most 32 characters") }
        let allowed = phone.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || " +-().".unicodeScalars.contains($0) }
        let digits = phone.unicodeScalars.filter { ("0"..."9").contains($0) }.count
        guard allowed, digits >= 3 else {
            throw ClientError.invalid("phone", "use digits, spaces and + - ( ) . only, with at least 3 digits")
        }
        return phone
    }

    static func userID(_ raw: String) throws -> String {
        let id = raw.trimmingWhitespace
        guard !id.isEmpty else { throw ClientError.invalid("user", "required") }
        guard id.count <= 255, !id.containsControlCharacters else {
            throw ClientError.invalid("user", "at most 255 characters, no control characters")
        }
        return id
    }

    static func actor(_ raw: String) throws -> String {
        let actor = raw.trimmingWhitespace
        guard !actor.isEmpty, actor.count <= 255, !actor.containsControlCharacters else {
            throw ClientError.invalid("actor", "1–255 characters, no control characters")
        }
        return actor
    }

    static func reason(_ raw: String?) throws -> String? {
        guard let reason = raw?.trimmingWhitespace, !reason.isEmpty else { return nil }
        guard reason.count <= 1000, !reason.containsControlCharacters else {
            throw ClientError.invalid("reason", "at most 1000 characters, no control characters")
        }
        return reason
    }

    /// A pragmatic RFC 5321 subset: ASCII local part of atom characters and dots, a domain of at
    /// least two DNS labels with an alphabetic top-level label. Internationalised domains must be
    /// given in punycode.
    static func isValidEmail(_ email: String) -> Bool {
        let bytes = Array(email.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")),
              bytes.firstIndex(of: UInt8(ascii: "@")) == at
        else { return false }
        let local = bytes[..<at]
        let domain = bytes[(at + 1)...]
        guard (1...64).contains(local.count), !domain.isEmpty else { return false }
        let atomSpecials = Array("!#$%&'*+/=?^_`{|}~-".utf8)
        guard local.first != UInt8(ascii: "."), local.last != UInt8(ascii: "."),
              !zip(local, local.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && $1 == UInt8(ascii: ".") }),
              local.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: ".") || atomSpecials.contains($0) })
        else { return false }
        let labels = domain.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        for label in labels {
            guard (1...63).contains(label.count), label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
                  label.allSatisfy({ isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        let top = labels.last!
        return top.count >= 2 && (top.allSatisfy(isLetter) || top.starts(with: Array("xn--".utf8)))
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLetter(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}

extension String {
    var trimmingWhitespace: String {
        var scalars = Substring(self).unicodeScalars[...]
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// C0, DEL and C1 controls, plus line and paragraph separators.
    var containsControlCharacters: Bool {
        unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029 }
    }
}
