package pkg

// The KurrentDB client's go.mod still names the monolithic
// google.golang.org/genproto module, whose old versions also contain
// googleapis/rpc; requiring a recent split version here keeps the two from
// both providing the same packages ("ambiguous import").
import _ "google.golang.org/genproto/protobuf/field_mask"
