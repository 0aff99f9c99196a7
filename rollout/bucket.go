package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
)

// bucketSalt keeps this rollout's buckets independent of any other hash of
// buyer ids. Changing it reshuffles every buyer, so treat it as frozen.
const bucketSalt = "buy-button-rollout:"

// Bucket places a buyer at a fixed point in [0, 100). A buyer is in the rollout
// when Bucket(id) < Percent, so raising the percentage only ever adds buyers:
// nobody who already had the button loses it. The value depends only on the
// id, so every replica and every release agrees on it.
func Bucket(buyerID string) float64 {
	sum := sha256.Sum256([]byte(bucketSalt + buyerID))
	return bucketOf(binary.BigEndian.Uint64(sum[:8]))
}

// bucketOf maps a uint64 onto [0, 100). Only the top 53 bits are used because
// float64(u)/2^64 rounds the largest values up to exactly 1, which would put
// some buyers at 100 and keep them out even at a full rollout.
func bucketOf(u uint64) float64 {
	b := float64(u>>11) / (1 << 53) * 100
	if b >= 100 { // not reachable with IEEE rounding today; keeps the contract explicit
		b = math.Nextafter(100, 0)
	}
	return b
}
