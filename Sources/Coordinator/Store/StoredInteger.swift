import GRDB

/// Unsigned values (milliseconds, sizes) in SQLite's signed 64-bit INTEGER. Converted here, explicitly, because
/// GRDB's own UInt64 conversion traps above Int64.max: out of range is an error naming the column.
enum StoredInteger {
    static func signed(_ value: UInt64, _ column: String) throws -> Int64 {
        guard let stored = Int64(exactly: value) else { throw StoreError.outOfRange(column: column, value: "\(value)") }
        return stored
    }

    static func signedIfPresent(_ value: UInt64?, _ column: String) throws -> Int64? {
        try value.map { try signed($0, column) }
    }

    static func unsigned(_ value: Int64, _ column: String) throws -> UInt64 {
        guard let read = UInt64(exactly: value) else { throw StoreError.outOfRange(column: column, value: "\(value)") }
        return read
    }
}

extension Row {
    /// The column's value; a NULL or a value of another type is an error, not a trap (unlike `row[i]`).
    func value<T: DatabaseValueConvertible>(_ index: Int) throws -> T { try decode(T.self, atIndex: index) }

    /// The same, read straight from the statement's column (GRDB's fast path for String, Int, Double...).
    func value<T: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) throws -> T {
        try decode(T.self, atIndex: index)
    }

    func unsigned(_ index: Int, _ column: String) throws -> UInt64 {
        try StoredInteger.unsigned(decode(Int64.self, atIndex: index), column)
    }

    func unsignedIfPresent(_ index: Int, _ column: String) throws -> UInt64? {
        try decode(Int64?.self, atIndex: index).map { try StoredInteger.unsigned($0, column) }
    }
}
