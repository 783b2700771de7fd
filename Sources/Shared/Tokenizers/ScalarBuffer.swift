/// Decoding text into a scalar array, the working form of every tokenizer here.
enum ScalarBuffer {
    /// The Unicode scalars of `text`, in one pass over its UTF-8 (`Array(text.unicodeScalars)`
    /// walks the string twice: once to count, once to copy).
    static func scalars(of text: String) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.utf8.count)
        for s in text.unicodeScalars { out.append(s) }
        return out
    }
}
