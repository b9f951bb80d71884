package events

// Scanners for the other payload types every generated craftsman has
// (CraftsmanRegistered) or many have (HonourConferred), under the same
// rules as payload_fast.go: the exact form json.Marshal writes, anything
// else left to encoding/json.

func decodeCraftsmanRegistered(data []byte) (Payload, error) {
	return decodeScanned(data, scanCraftsmanRegistered)
}

func scanCraftsmanRegistered(data []byte) (v CraftsmanRegistered, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	if s.whole(func(k []byte) bool {
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			return seen(&m, 1<<0) && s.strTo(&v.CraftsmanID)
		case "nationalIdHash":
			return seen(&m, 1<<1) && s.strTo(&v.NationalIDHash)
		case "birthDate":
			return seen(&m, 1<<2) && s.strTo(&v.BirthDate)
		case "region":
			return seen(&m, 1<<3) && s.strTo(&v.Region)
		case "personal":
			return seen(&m, 1<<4) && s.personal(alloc(&v.Personal))
		case "sealedPersonal":
			return seen(&m, 1<<5) && s.sealedPersonal(alloc(&v.SealedPersonal))
		}
		return false
	}) {
		return v, true
	}
	return CraftsmanRegistered{}, false
}

func (s *jsonScan) personal(p *Personal) bool {
	var m uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "name":
			return seen(&m, 1) && s.strTo(&p.Name)
		case "phone":
			return seen(&m, 2) && s.strTo(&p.Phone)
		case "email":
			return seen(&m, 4) && s.strTo(&p.Email)
		}
		return false
	})
}

func (s *jsonScan) sealedPersonal(p *SealedPersonal) bool {
	var m uint32
	return s.object(func(k []byte) bool {
		switch string(k) {
		case "keyId":
			return seen(&m, 1) && s.strTo(&p.KeyID)
		case "alg":
			return seen(&m, 2) && s.strTo(&p.Alg)
		case "nonce":
			return seen(&m, 4) && s.strTo(&p.Nonce)
		case "ciphertext":
			return seen(&m, 8) && s.strTo(&p.Ciphertext)
		}
		return false
	})
}

func decodeHonourConferred(data []byte) (Payload, error) {
	return decodeScanned(data, scanHonourConferred)
}

func scanHonourConferred(data []byte) (v HonourConferred, ok bool) {
	s := jsonScan{b: data}
	var m uint32
	if s.whole(func(k []byte) bool {
		switch string(k) { // no allocation for the switch
		case "craftsmanId":
			return seen(&m, 1<<0) && s.strTo(&v.CraftsmanID)
		case "honourId":
			return seen(&m, 1<<1) && s.strTo(&v.HonourID)
		case "code":
			return seen(&m, 1<<2) && s.strTo(&v.Code)
		case "name":
			return seen(&m, 1<<3) && s.strTo(&v.Name)
		case "level":
			return seen(&m, 1<<4) && s.strTo(&v.Level)
		case "conferringBody":
			return seen(&m, 1<<5) && s.strTo(&v.ConferringBody)
		case "trade":
			return seen(&m, 1<<6) && s.trade(alloc(&v.Trade))
		case "placementId":
			return seen(&m, 1<<7) && s.strTo(&v.PlacementID)
		}
		return false
	}) {
		return v, true
	}
	return HonourConferred{}, false
}
