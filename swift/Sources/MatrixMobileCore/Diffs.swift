import Foundation

// Applying the core's list diffs.
//
// `RoomListUpdate` and `TimelineUpdate` carry the variants of eyeball-im's
// `VectorDiff`; a listener's first batch starts with `reset`. Applying every
// batch in order to an empty array keeps it equal to the core's list. These
// functions are pure: they return the new array and touch nothing else, so a
// SwiftUI model, a diffable data source or a test can use them alike.
//
// An index past the end would mean a diff out of step with the list (the
// core never sends one to a listener that applied every batch). It is not
// allowed to trap an app: `insert` past the end appends, `set` and `remove`
// past the end and pops of an empty list are ignored, and `truncate` to a
// longer length keeps the list. The next `reset` (a new filter, for one)
// brings the list back in step.

/// Applies room list diffs, in order, to `rooms`, and returns the result.
public func apply(_ updates: [RoomListUpdate], to rooms: [RoomSummary]) -> [RoomSummary] {
    var rooms = rooms
    for update in updates {
        ListDiff(update).apply(to: &rooms)
    }
    return rooms
}

/// Applies timeline diffs, in order, to `items`, and returns the result.
public func apply(_ updates: [TimelineUpdate], to items: [TimelineItem]) -> [TimelineItem] {
    var items = items
    for update in updates {
        ListDiff(update).apply(to: &items)
    }
    return items
}

/// One `VectorDiff`, whatever the element type.
enum ListDiff<Element> {
    case append([Element])
    case clear
    case pushFront(Element)
    case pushBack(Element)
    case popFront
    case popBack
    case insert(Int, Element)
    case set(Int, Element)
    case remove(Int)
    case truncate(Int)
    case reset([Element])

    func apply(to list: inout [Element]) {
        switch self {
        case .append(let values):
            list.append(contentsOf: values)
        case .clear:
            list.removeAll()
        case .pushFront(let value):
            list.insert(value, at: 0)
        case .pushBack(let value):
            list.append(value)
        case .popFront:
            if !list.isEmpty { list.removeFirst() }
        case .popBack:
            if !list.isEmpty { list.removeLast() }
        case .insert(let index, let value):
            list.insert(value, at: min(index, list.count))
        case .set(let index, let value):
            if index < list.count { list[index] = value }
        case .remove(let index):
            if index < list.count { list.remove(at: index) }
        case .truncate(let length):
            if length < list.count { list.removeSubrange(length...) }
        case .reset(let values):
            list = values
        }
    }
}

extension ListDiff where Element == RoomSummary {
    init(_ update: RoomListUpdate) {
        switch update {
        case .append(let values): self = .append(values)
        case .clear: self = .clear
        case .pushFront(let value): self = .pushFront(value)
        case .pushBack(let value): self = .pushBack(value)
        case .popFront: self = .popFront
        case .popBack: self = .popBack
        case .insert(let index, let value): self = .insert(Int(index), value)
        case .set(let index, let value): self = .set(Int(index), value)
        case .remove(let index): self = .remove(Int(index))
        case .truncate(let length): self = .truncate(Int(length))
        case .reset(let values): self = .reset(values)
        }
    }
}

extension ListDiff where Element == TimelineItem {
    init(_ update: TimelineUpdate) {
        switch update {
        case .append(let values): self = .append(values)
        case .clear: self = .clear
        case .pushFront(let value): self = .pushFront(value)
        case .pushBack(let value): self = .pushBack(value)
        case .popFront: self = .popFront
        case .popBack: self = .popBack
        case .insert(let index, let value): self = .insert(Int(index), value)
        case .set(let index, let value): self = .set(Int(index), value)
        case .remove(let index): self = .remove(Int(index))
        case .truncate(let length): self = .truncate(Int(length))
        case .reset(let values): self = .reset(values)
        }
    }
}
