// Package honour is the go-kit service that records honours (劳动模范,
// 五一劳动奖章, 大国工匠, 技术能手 … at national, provincial, city, enterprise
// or academy level) and their withdrawal, and recognised innovation
// results (五小, technical breakthroughs, patents, innovation-studio
// projects) on the worker's stream craftsman-<id>.
//
// Honours alone grant no level; they are criteria for the upper grades
// and shown on the record. An honour that a competition placement
// triggered names the placement (placementId) and, unless the request
// carries its own X-Causation-ID, its event's causation id is the
// placement's event id.
//
// Every fact has a deterministic event id (from the worker and the
// honour's or innovation's id; an id left out is derived from the code or
// kind, title and date, or, for a request without a date but with an
// Idempotency-Key, from the key), so a repeated request or a re-imported
// file writes nothing twice; a fact a correction retracted is recorded
// again when sent again (servicekit.FactOnStream). With an Idempotency-Key
// the key decides: its event takes the handler's keyed id, so the key
// reused for another request is refused whatever ids that body derives.
// Bulk back-fill takes JSON Lines with one result per line.
//
// Who may do what: issuers record honours and innovations in the name of
// their organisation (or admins, in anyone's); an honour is withdrawn only
// by the organisation that recorded it, or an admin.
package honour
