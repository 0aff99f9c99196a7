package cluster

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/buybutton/checkout/keyring"
)

// Secrets are the cluster's generated secrets, kept in Dir/secrets.env
// (0600) so a restart reads the data the last run wrote.
type Secrets struct {
	BuyerTokenSecret string
	AdminToken       string
	CodecToken       string
	WebhookSecret    string
	EncryptionKeys   string
}

func (s Secrets) env() []string {
	return []string{
		"BUYER_TOKEN_SECRET=" + s.BuyerTokenSecret,
		"ADMIN_TOKEN=" + s.AdminToken,
		"CODEC_TOKEN=" + s.CodecToken,
		"STRIPE_WEBHOOK_SECRET=" + s.WebhookSecret,
		"CHECKOUT_ENCRYPTION_KEYS=" + s.EncryptionKeys,
	}
}

// loadSecrets reads dir/secrets.env, generating what is missing.
func loadSecrets(dir string) (Secrets, error) {
	path := filepath.Join(dir, "secrets.env")
	kv := map[string]string{}
	if f, err := os.Open(path); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), "="); ok {
				kv[k] = v
			}
		}
		f.Close()
	}
	gen := func(key, prefix string) error {
		if kv[key] != "" {
			return nil
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		kv[key] = prefix + hex.EncodeToString(b)
		return nil
	}
	for _, k := range []struct{ key, prefix string }{
		{"BUYER_TOKEN_SECRET", ""}, {"ADMIN_TOKEN", "adm_"}, {"CODEC_TOKEN", "codec_"}, {"STRIPE_WEBHOOK_SECRET", "whsec_"},
	} {
		if err := gen(k.key, k.prefix); err != nil {
			return Secrets{}, err
		}
	}
	if kv["CHECKOUT_ENCRYPTION_KEYS"] == "" {
		spec, err := keyring.Generate()
		if err != nil {
			return Secrets{}, err
		}
		kv["CHECKOUT_ENCRYPTION_KEYS"] = spec
	}
	s := Secrets{
		BuyerTokenSecret: kv["BUYER_TOKEN_SECRET"],
		AdminToken:       kv["ADMIN_TOKEN"],
		CodecToken:       kv["CODEC_TOKEN"],
		WebhookSecret:    kv["STRIPE_WEBHOOK_SECRET"],
		EncryptionKeys:   kv["CHECKOUT_ENCRYPTION_KEYS"],
	}
	if err := os.WriteFile(path, []byte(strings.Join(s.env(), "\n")+"\n"), 0o600); err != nil {
		return Secrets{}, fmt.Errorf("write %s: %w", path, err)
	}
	return s, nil
}
