import Foundation
import HTTPTypes
import Logging
import SuiteHTTP
import SuiteTestSupport
import Testing

/// `LineLogHandler`: the request log's line format, its quoting, and one line per request.
@Suite struct LineLogHandlerTests {
    /// A pipe a handler writes to; `lines()` reads what was written so far.
    final class Pipe: Sendable {
        let read: Int32, write: Int32

        init() throws {
            var ends: [Int32] = [0, 0]
            guard pipe(&ends) == 0 else { throw CocoaError(.fileWriteUnknown) }
            (read, write) = (ends[0], ends[1])
            _ = fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK)
        }

        func lines() -> [String] {
            var bytes: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = Foundation.read(read, &buffer, buffer.count)
                if count <= 0 { break }
                bytes += buffer[..<count]
            }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        }

        deinit {
            close(read)
            close(write)
        }
    }

    @Test func writesTheTimeLevelLabelSortedFieldsSourceAndMessageOnOneLine() throws {
        let pipe = try Pipe()
        var logger = Logger(label: "clientsuite.test") { LineLogHandler(label: $0, descriptor: pipe.write) }
        logger.logLevel = .info
        logger[metadataKey: "server"] = "a"
        let before = Date()
        logger.info("request done", metadata: ["path": "/v1/x", "ms": "0.412", "status": .stringConvertible(200)], source: "SuiteHTTP")
        logger.debug("not written")
        let lines = pipe.lines()
        try #require(lines.count == 1)
        let line = lines[0]
        let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
        let time = try #require(try Date(parts[0], strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        #expect(parts[0].hasSuffix("Z") && parts[0].count == 24)
        #expect(abs(time.timeIntervalSince(before)) < 5)
        #expect(parts[1] == "info clientsuite.test: ms=0.412 path=/v1/x server=a status=200 [SuiteHTTP] request done")
    }

    @Test func quotesAndEscapesValuesSoThatALineStaysOneLine() throws {
        let pipe = try Pipe()
        var logger = Logger(label: "t") { LineLogHandler(label: $0, descriptor: pipe.write) }
        logger.logLevel = .trace
        logger.warning("two\nlines", metadata: [
            "space": "a b", "quote": "say \"hi\"", "equals": "k=v", "newline": "x\ny", "backslash": #"a\b"#, "control": "\u{1}",
            "empty": "", "plain": "AK-1_x",
        ], source: "S")
        let lines = pipe.lines()
        try #require(lines.count == 1)
        let fields = lines[0].split(separator: ": ", maxSplits: 1)[1]
        #expect(fields == #"backslash="a\\b" control="\u0001" empty="" equals="k=v" newline="x\ny" plain=AK-1_x quote="say \"hi\"" space="a b" [S] two\nlines"#)
        #expect(lines[0].contains(" warning t: "))
    }

    @Test(arguments: Engine.allCases)
    func everyRequestLogsOneLineWithItsRequestID(_ engine: Engine) async throws {
        let pipe = try Pipe()
        var logger = Logger(label: "clientsuite.http") { LineLogHandler(label: $0, descriptor: pipe.write) }
        logger.logLevel = .info
        try await engine.withAPI(logger: logger) { api, _ in
            _ = pipe.lines()  // whatever setting up logged
            var headers = HTTPFields()
            headers[.requestID] = "trace-7"
            let answer = try await api.call(.get, "/v1/clients/CL-nothing", headers: headers)
            #expect(answer.status == 404)
            headers[.requestID] = "trace-8"
            _ = try await api.call(.get, "/health/live", headers: headers)
            let lines = pipe.lines()
            try #require(lines.count == 2)
            #expect(lines[0].contains(" info clientsuite.http: method=GET ms="))
            #expect(lines[0].hasSuffix(" path=/v1/clients/CL-nothing request_id=trace-7 status=404 [SuiteHTTP] request"))
            #expect(lines[1].hasSuffix(" path=/health/live request_id=trace-8 status=200 [SuiteHTTP] request"))
            let ms = try #require(lines[0].split(separator: " ").first { $0.hasPrefix("ms=") }.flatMap { Double($0.dropFirst(3)) })
            #expect(ms >= 0 && ms < 60_000)
        }
    }
}
