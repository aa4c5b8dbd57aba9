package collx

import "errors"

// KeyIterator is what TakeKeys reads: a collections.Iterator, KeySetIterator or an index's iterator.
type KeyIterator[K any] interface {
	Valid() bool
	Next()
	Key() (K, error)
	Close() error
}

// TakeKeys reads the keys of it, in its order, up to limit of them, and closes it: the bounded read of a
// queue that EndBlock works through a few entries at a time (read first, then written, so that no write
// happens under an open iterator).
func TakeKeys[K any](it KeyIterator[K], limit int) ([]K, error) {
	var keys []K
	for ; it.Valid() && len(keys) < limit; it.Next() {
		key, err := it.Key()
		if err != nil {
			return nil, errors.Join(err, it.Close())
		}
		keys = append(keys, key)
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return keys, nil
}
