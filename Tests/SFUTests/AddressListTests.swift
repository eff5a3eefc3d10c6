import MediaWire
import Testing
@testable import SFU

/// The address list with its first entry inline: order, membership and removal as an array's.
struct AddressListTests {
    static func address(_ port: UInt16) -> TransportAddress { TransportAddress(ip: .loopbackV4, port: port) }

    @Test func behavesAsAnArray() {
        var list = AddressList()
        var model: [TransportAddress] = []
        #expect(list.isEmpty && list.count == 0 && !list.contains(Self.address(1)))
        for p: UInt16 in 1...5 { list.append(Self.address(p)); model.append(Self.address(p)) }
        #expect(Array(list) == model && list.count == 5 && list.contains(Self.address(5)))
        list.removeFirst(); model.removeFirst()
        #expect(Array(list) == model && !list.contains(Self.address(1)))
        list.removeAll { $0.port % 2 == 0 }; model.removeAll { $0.port % 2 == 0 }
        #expect(Array(list) == model && Array(list).map(\.port) == [3, 5])
        list.removeAll { $0.port == 3 }
        #expect(Array(list).map(\.port) == [5])
        list.removeFirst()
        #expect(list.isEmpty && Array(list).isEmpty)
        list.removeFirst()  // on empty: stays empty
        list.append(Self.address(9))
        #expect(Array(list).map(\.port) == [9])
    }
}
