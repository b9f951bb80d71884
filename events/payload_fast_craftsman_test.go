package events

import "testing"

var registeredSeeds = []string{
	`{"craftsmanId":"p0000001","nationalIdHash":"ab12","birthDate":"1985-05-05","region":"R1","personal":{"name":"Worker p0000001"}}`,
	`{"craftsmanId":"c1","nationalIdHash":"ab","sealedPersonal":{"keyId":"k1","alg":"A256GCM","nonce":"bm9uY2U=","ciphertext":"Y2lwaGVy"}}`,
	`{"craftsmanId":"c1","nationalIdHash":"ab","personal":{"name":"n","phone":"1","email":"e@x"}}`,
	`{"craftsmanId":"p1","honourId":"h1","code":"city_craftsman","level":"city","conferringBody":"city union"}`,
	`{"craftsmanId":"p1","honourId":"h1","code":"c","name":"n","level":"city","conferringBody":"b","trade":{"code":"6-18-02-04","name":"welder"},"placementId":"pl1"}`,
	`{}`,
	`{"personal":null}`,
	`{"trade":null}`,
	`{"personal":{}}`,
	`{"personal":{"name":"a","name":"b"}}`,
	`{"personal":{"Name":"a"}}`,
	`{"craftsmanId":"a","craftsmanId":"b"}`,
	`{"region":"\u6d4e"}`,
	`{"sealedPersonal":{"keyId":1}}`,
	`{"trade":{"code":"x"},"x":1}`,
	`{"personal":{"name":"a"} }`,
}

// TestDecodeRegisteredAndHonourLikeJSON: CraftsmanRegistered and
// HonourConferred decode exactly as with encoding/json, the canonical
// seeds through the scanner.
func TestDecodeRegisteredAndHonourLikeJSON(t *testing.T) {
	for i, s := range registeredSeeds {
		sameAsJSON(t, []byte(s), scanCraftsmanRegistered, decodeCraftsmanRegistered)
		sameAsJSON(t, []byte(s), scanHonourConferred, decodeHonourConferred)
		_, okR := scanCraftsmanRegistered([]byte(s))
		_, okH := scanHonourConferred([]byte(s))
		if want := i <= 2 || i == 5 || i == 8; okR != want {
			t.Errorf("seed %d: CraftsmanRegistered scanner took it: %v", i, okR)
		}
		if want := i == 3 || i == 4 || i == 5; okH != want {
			t.Errorf("seed %d: HonourConferred scanner took it: %v", i, okH)
		}
	}
}

// FuzzDecodeRegisteredAndHonour: the two scanners against encoding/json.
func FuzzDecodeRegisteredAndHonour(f *testing.F) {
	for _, s := range registeredSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsJSON(t, data, scanCraftsmanRegistered, decodeCraftsmanRegistered)
		sameAsJSON(t, data, scanHonourConferred, decodeHonourConferred)
	})
}
