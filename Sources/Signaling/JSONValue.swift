import Foundation

/// Helpers for JSON decoded with `JSONSerialization` on Linux, where a JSON number also casts to
/// `Bool` and `true` casts to a number: the Objective-C type code tells them apart.
enum JSONValue {
    static func isBoolean(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    /// A JSON string, or nil.
    static func string(_ v: Any?) -> String? { v as? String }

    /// A JSON boolean (not a number), or nil.
    static func bool(_ v: Any?) -> Bool? {
        guard let n = v as? NSNumber, isBoolean(n) else { return nil }
        return n.boolValue
    }

    /// A JSON integer (not a boolean, no fraction) within Int range, or nil.
    static func int(_ v: Any?) -> Int? {
        guard let n = v as? NSNumber, !isBoolean(n) else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9e15 else { return nil }
        return Int(d)
    }
}
