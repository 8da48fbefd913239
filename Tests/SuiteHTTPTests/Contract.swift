import Foundation
import Hummingbird
import HummingbirdTesting
import Suite
import SuiteHTTP
import SuiteStorage
import SuiteTestSupport
import Testing
import Yams

/// openapi.yaml, read as data, and the checks that hold the routes to it: which endpoints it
/// has, and whether an answer's body fits the schema it documents for that endpoint and status.
/// The checks cover what the document uses: `$ref`, `type` (one or a list, `null` included),
/// `required`, `properties`, `items` and `enum`.
struct Contract: Sendable {
    let document: [String: any Sendable]

    static let shared: Contract = {
        let text = String(decoding: try! OpenAPIDocument.data(), as: UTF8.self)
        return Contract(document: (try! Yams.load(yaml: text) as? [String: any Sendable]) ?? [:])
    }()

    /// `GET /v1/clients/{refid}` for every operation in the document.
    var endpoints: Set<String> {
        var result: Set<String> = []
        for (path, item) in (document["paths"] as? [String: Any]) ?? [:] {
            for method in ((item as? [String: Any]) ?? [:]).keys where method != "parameters" {
                result.insert("\(method.uppercased()) \(path)")
            }
        }
        return result
    }

    /// What is wrong with `body` as the answer `status` to `method` on the template `path`; an
    /// empty list when it fits. A status the operation does not document is wrong, except the
    /// conventions every route shares (404 for no route, 405, 413), which must be problems.
    func violations(method: String, path: String, status: Int, body: Any?) -> [String] {
        let operation = ((document["paths"] as? [String: Any])?[path] as? [String: Any])?[method.lowercased()] as? [String: Any]
        guard let operation else { return ["\(method) \(path) is not in the document"] }
        let responses = operation["responses"] as? [String: Any] ?? [:]
        var response = responses[String(status)] as? [String: Any]
        if response == nil, [404, 405, 413].contains(status) { response = ["$ref": "#/components/responses/Problem"] }
        guard var resolved = response else { return ["\(method) \(path) does not document \(status)"] }
        resolved = resolve(resolved)
        guard let content = resolved["content"] as? [String: Any], let media = content.values.first as? [String: Any],
              let schema = media["schema"] as? [String: Any] else { return [] }
        // A page (the hosted checkout) is HTML, not JSON: its schema is only `string`.
        if content.keys.allSatisfy({ $0.hasPrefix("text/") }) { return body == nil ? [] : ["\(method) \(path) answered JSON, not a page"] }
        return check(body as Any, against: schema, at: "body")
    }

    private func resolve(_ node: [String: Any]) -> [String: Any] {
        guard let reference = node["$ref"] as? String else { return node }
        var target: Any? = document
        for key in reference.dropFirst(2).split(separator: "/") { target = (target as? [String: Any])?[String(key)] }
        return resolve(target as? [String: Any] ?? [:])
    }

    private func check(_ value: Any, against schema: [String: Any], at where_: String) -> [String] {
        let schema = resolve(schema)
        if let alternatives = schema["oneOf"] as? [[String: Any]] {
            let fits = alternatives.filter { check(value, against: $0, at: where_).isEmpty }.count
            return fits == 1 ? [] : ["\(where_): fits \(fits) of the oneOf alternatives, not one"]
        }
        var problems: [String] = []
        let types: [String] = (schema["type"] as? [String]) ?? ((schema["type"] as? String).map { [$0] } ?? [])
        if !types.isEmpty, !types.contains(where: { Self.value(value, is: $0) }) {
            return ["\(where_): \(String(describing: value)) is not \(types.joined(separator: " or "))"]
        }
        if let allowed = schema["enum"] as? [String], let text = value as? String, !allowed.contains(text) {
            problems.append("\(where_): \(text) is not one of \(allowed)")
        }
        if let object = value as? [String: Any] {
            for key in (schema["required"] as? [String]) ?? [] where object[key] == nil {
                problems.append("\(where_): missing \(key)")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, child) in object {
                if let childSchema = properties[key] as? [String: Any] {
                    problems += check(child, against: childSchema, at: "\(where_).\(key)")
                } else if !properties.isEmpty, schema["additionalProperties"] == nil {
                    problems.append("\(where_): \(key) is not documented")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (index, element) in array.enumerated() { problems += check(element, against: items, at: "\(where_)[\(index)]") }
        }
        return problems
    }

    /// JSONSerialization's numbers carry their kind: `c` for a boolean, `i`/`q` for an integer, `d` for a double.
    private static func objCType(_ value: Any) -> String? {
        (value as? NSNumber).map { String(cString: $0.objCType) }
    }

    private static func value(_ value: Any, is type: String) -> Bool {
        switch type {
        case "null": value is NSNull
        case "string": value is String
        case "boolean": Self.objCType(value) == "c"
        case "integer": ["i", "l", "q", "s"].contains(Self.objCType(value))
        case "number": value is NSNumber
        case "object": value is [String: Any]
        case "array": value is [Any]
        default: true
        }
    }
}
