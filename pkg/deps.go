package pkg

import (
	_ "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	_ "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	_ "github.com/cockroachdb/pebble"
	_ "github.com/go-kit/kit/endpoint"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/oklog/run"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/sony/gobreaker"
	_ "google.golang.org/grpc"
)
