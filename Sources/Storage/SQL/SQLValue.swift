import Foundation

/// A value going into or coming out of either database, so that every query of the storage
/// layer is written once (`GatewaySQLStore`) and both backends give the same answers.
public enum SQLValue: Sendable, Equatable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])

    var int: Int64? {
        switch self {
        case .int(let v): v
        case .double(let v): Int64(v)
        case .text(let t): Int64(t)
        default: nil
        }
    }

    var double: Double? {
        switch self {
        case .int(let v): Double(v)
        case .double(let v): v
        case .text(let t): Double(t)
        default: nil
        }
    }

    var text: String? {
        switch self {
        case .text(let t): t
        case .int(let v): String(v)
        case .double(let v): String(v)
        case .blob(let b): String(decoding: b, as: UTF8.self)
        case .null: nil
        }
    }

    var blob: [UInt8]? {
        switch self {
        case .blob(let b): b
        case .text(let t): Array(t.utf8)
        default: nil
        }
    }
}

extension SQLValue {
    init(_ text: String?) { self = text.map(SQLValue.text) ?? .null }
    init(_ int: Int64?) { self = int.map(SQLValue.int) ?? .null }
    init(_ double: Double?) { self = double.map(SQLValue.double) ?? .null }
}

/// One statement with `?` placeholders (PostgreSQL's `$n` are numbered by its backend).
public struct SQLStatement: Sendable {
    public var sql: String
    public var arguments: [SQLValue]

    public init(_ sql: String, _ arguments: [SQLValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }
}

/// One result row, columns in the order of the SELECT.
public struct SQLRow: Sendable {
    public var values: [SQLValue]

    subscript(_ index: Int) -> SQLValue { index < values.count ? values[index] : .null }
}
