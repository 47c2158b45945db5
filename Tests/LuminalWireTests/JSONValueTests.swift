import LuminalWire
import Testing

@Suite("JSON value")
struct JSONValueTests {
    @Test("literals build the matching cases")
    func literals() {
        let null: JSONValue = nil
        let bool: JSONValue = true
        let int: JSONValue = 42
        let double: JSONValue = 4.5
        let string: JSONValue = "s"
        let array: JSONValue = [1, "a"]
        let object: JSONValue = ["k": 1]
        #expect(null == .null)
        #expect(bool == .bool(true))
        #expect(int == .int(42))
        #expect(double == .double(4.5))
        #expect(string == .string("s"))
        #expect(array == .array([.int(1), .string("a")]))
        #expect(object == .object(["k": .int(1)]))
    }

    @Test("subscripts look into objects and arrays only")
    func subscripts() {
        let value: JSONValue = ["a": [10, 20], "b": nil]
        #expect(value["a"]?[1] == 20)
        #expect(value["a"]?[2] == nil)
        #expect(value["a"]?[-1] == nil)
        #expect(value["b"] == .null)
        #expect(value["missing"] == nil)
        #expect(value[0] == nil)
        #expect(JSONValue.array([1])["a"] == nil)
        #expect(JSONValue.string("abc")[0] == nil)
    }

    @Test("typed accessors")
    func accessors() {
        #expect(JSONValue.string("x").stringValue == "x")
        #expect(JSONValue.int(1).stringValue == nil)
        #expect(JSONValue.int(7).intValue == 7)
        #expect(JSONValue.double(7.0).intValue == 7)
        #expect(JSONValue.double(7.5).intValue == nil)
        #expect(JSONValue.double(1e300).intValue == nil)
        #expect(JSONValue.double(.nan).intValue == nil)
        #expect(JSONValue.double(-0x1p63).intValue == .min)
        #expect(JSONValue.double(0x1p63).intValue == nil)
        #expect(JSONValue.double(-0.0).intValue == 0)
        #expect(JSONValue.string("7").intValue == nil)
        #expect(JSONValue.int(3).doubleValue == 3.0)
        #expect(JSONValue.double(2.5).doubleValue == 2.5)
        #expect(JSONValue.bool(true).doubleValue == nil)
        #expect(JSONValue.bool(false).boolValue == false)
        #expect(JSONValue.null.boolValue == nil)
        #expect(JSONValue.array([nil]).arrayValue == [.null])
        #expect(JSONValue.object([:]).arrayValue == nil)
        #expect(JSONValue.object(["a": 1]).objectValue == ["a": 1])
        #expect(JSONValue.array([]).objectValue == nil)
        #expect(JSONValue.null.isNull)
        #expect(!JSONValue.int(0).isNull)
    }

    @Test("an integer and a double are different values")
    func intVersusDouble() {
        #expect(JSONValue.int(1) != JSONValue.double(1))
        #expect(Set<JSONValue>([1, 1.0, 1, "1"]).count == 3)
    }
}
