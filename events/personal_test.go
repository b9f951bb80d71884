package events_test

import (
	"bytes"
	"testing"

	ev "github.com/craftledger/craftledger/events"
)

func TestSealPersonal(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	nonce := bytes.Repeat([]byte{1}, 12)
	p := ev.Personal{Name: "王师傅", Phone: "13800000000"}
	s, err := ev.SealPersonal(key, "wk-1", "c-1", nonce, p)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains([]byte(s.Ciphertext), []byte("1380")) {
		t.Fatal("ciphertext contains the phone number")
	}
	reg := ev.CraftsmanRegistered{CraftsmanID: "c-1", NationalIDHash: ev.HashNationalID(key, "x"), SealedPersonal: &s}
	if err := reg.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := ev.OpenPersonal(key, "c-1", s)
	if err != nil || got != p {
		t.Fatalf("open = %+v, %v", got, err)
	}
	if _, err := ev.OpenPersonal(key, "c-2", s); err == nil {
		t.Error("opened under another worker's id")
	}
	other := bytes.Repeat([]byte{8}, 32)
	if _, err := ev.OpenPersonal(other, "c-1", s); err == nil {
		t.Error("opened with another key (a shredded key must not open it)")
	}
	if _, err := ev.SealPersonal(key[:16], "wk-1", "c-1", nonce, p); err == nil {
		t.Error("sealed with a 16-byte key")
	}
}
