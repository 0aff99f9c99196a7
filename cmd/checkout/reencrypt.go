package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/buybutton/checkout/config"
)

// runReencrypt re-seals every encrypted column (saved profiles, order
// addresses) under the active key of CHECKOUT_ENCRYPTION_KEYS, and seals
// addresses stored before encryption. Run it after making a new key active;
// when it reports zero rows, the old key can leave the ring. Without
// CHECKOUT_ENCRYPTION_KEYS it uses the development ring of `checkout dev`,
// if there is one, and never generates a key: a fresh key could read nothing.
func runReencrypt(ctx context.Context, cfg config.Config, _ []string) error {
	devFile := ""
	if cfg.EncryptionKeys == "" {
		if f := filepath.Join(dataDir, devKeyFile); fileExists(f) {
			devFile = f
		}
	}
	ring, err := loadKeyRing(cfg, devFile)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, ring, checkSchema)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.Reencrypt(ctx)
	if err != nil {
		return err
	}
	out := map[string]any{"active_key": ring.ActiveID(), "resealed": n}
	return json.NewEncoder(os.Stdout).Encode(out)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
