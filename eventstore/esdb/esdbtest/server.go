// Package esdbtest is an in-process EventStoreDB test server: a gRPC server
// on 127.0.0.1 that implements the services the EventStoreDB Go client v4
// (github.com/EventStore/EventStore-Client-Go/v4) calls, on the generated
// server interfaces of that client's protos packages. Tests connect the real
// client to it with URL(), so every byte of the esdb adapter's traffic goes
// over a real loopback gRPC connection.
//
// # What it reproduces
//
//   - Streams.Append with the expected-revision rules of EventStoreDB: any,
//     no_stream, stream_exists and an exact revision; a mismatch answers
//     WrongExpectedVersion with the current revision.
//   - Idempotent appends by event ID, as EventStoreDB decides them (IDs only,
//     never content): with an exact revision or no_stream below the current
//     revision, a batch whose IDs are the events at the following revisions
//     is a success that returns the original last revision and no position;
//     a batch that matches only in part is WrongExpectedVersion; a mismatch
//     of the first event is WrongExpectedVersion. With any or stream_exists,
//     a batch whose IDs are all in the stream is a success with the original
//     revision (even out of order, as EventStoreDB's ID cache allows), a
//     batch whose first ID is new is written (even if later IDs repeat), and
//     one that starts with known IDs then has a new one is
//     WrongExpectedVersion. An event ID used in another stream does not count:
//     EventStoreDB writes it again.
//   - $all positions: every event has its own log position, commit equal to
//     prepare, growing by the size of the record (not by one). An append's
//     result carries the commit position of its last event and the prepare
//     position of its first (the transaction position).
//   - Streams.Read of a stream (forwards/backwards, from start, end or a
//     revision, a count; StreamNotFound for a stream without events) and of
//     $all (forwards from a position inclusive, backwards before a position
//     exclusive, from start or end), with the structured or string UUID
//     option and the "type", "content-type" and "created" (.NET ticks since
//     the Unix epoch) system metadata the client parses.
//   - Subscriptions to $all and to a stream: a confirmation, the catch-up,
//     a CaughtUp message, then live events; filters on stream name or event
//     type by prefix list or regular expression (Go regexp syntax, which
//     agrees with .NET's for the expressions clients send), with a checkpoint
//     after every max-window x multiplier events scanned and at caught-up.
//   - System events: a fresh server holds, like a fresh node, "$metadata" and
//     "$UserCreated" events in "$"-prefixed streams; AppendSystemEvent adds
//     more (e.g. "$statsCollected") whenever a test wants them.
//   - Dropped subscriptions: DropSubscriptions ends every running
//     subscription call with an error, as a node does when it restarts, loses
//     leadership or finds a subscriber too slow.
//   - ServerFeatures.GetSupportedMethods (server version 24.10.0, reads and
//     appends only) and Gossip.Read (one live leader: itself), so both
//     "esdb://host:port?tls=false" and gossip-seed connection strings work.
//   - The default 1 MiB maximum append size.
//
// # What it does not reproduce
//
// TLS and authentication (use tls=false; credentials are ignored), access
// control lists, stream metadata semantics ($maxAge, $maxCount, truncation:
// "$$stream" metadata events are stored, never applied), deletes and
// tombstones, BatchAppend, persistent subscriptions, projections, link
// events and resolve-links, clusters (gossip names one node; no elections, no
// not-leader redirects), the limited size of EventStoreDB's event-ID cache
// (here every ID of the stream is remembered), slow-subscriber drops on its
// own (use DropSubscriptions), durability (everything lives in memory and
// dies with the server), and the exact text of error messages.
package esdbtest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/status"
)

// MaxAppendSize is EventStoreDB's default limit on the bytes of one append.
const MaxAppendSize = 1 << 20

// Version is the server version GetSupportedMethods reports.
const Version = "24.10.0"

// record is one event in the log.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	position    uint64 // commit == prepare
	typ         string
	contentType string
	data        []byte
	meta        []byte
	created     time.Time
}

// Server is a running test server.
type Server struct {
	grpc *grpc.Server
	lis  net.Listener

	mu      sync.Mutex
	log     []*record
	streams map[string][]*record
	next    uint64        // the next log position
	changed chan struct{} // closed and replaced on every append
	drop    chan struct{} // closed and replaced by DropSubscriptions
	subs    int           // running subscriptions
	sent    atomic.Int64  // events sent by reads and subscriptions

	streamsServer
	featuresServer
	gossipServer
}

// Start starts a server on a random port of 127.0.0.1.
func Start() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("esdbtest: listening: %w", err)
	}
	s := &Server{
		lis:     lis,
		streams: map[string][]*record{},
		next:    128, // a node's log starts after its epoch records
		changed: make(chan struct{}),
		drop:    make(chan struct{}),
	}
	s.streamsServer.s = s
	s.gossipServer.s = s
	// The client pings every 10 s even without calls; a node allows that.
	s.grpc = grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}))
	api.RegisterStreamsServer(s.grpc, &s.streamsServer)
	serverfeatures.RegisterServerFeaturesServer(s.grpc, &s.featuresServer)
	gossip.RegisterGossipServer(s.grpc, &s.gossipServer)
	// What a fresh node holds before anyone writes.
	s.AppendSystemEvent("$$$stats-"+lis.Addr().String(), "$metadata", []byte(`{"$maxAge":86400}`))
	s.AppendSystemEvent("$user-admin", "$UserCreated", []byte(`{"loginName":"admin","fullName":"KurrentDB Administrator"}`))
	go func() { _ = s.grpc.Serve(lis) }()
	return s, nil
}

// New starts a server for one test and stops it when the test ends.
func New(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start()
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// URL is a connection string for a single node without TLS.
func (s *Server) URL() string { return "esdb://" + s.Addr() + "?tls=false" }

// GossipURL is a connection string that discovers the node through gossip.
func (s *Server) GossipURL() string {
	return "esdb://" + s.Addr() + "," + s.Addr() + "?tls=false"
}

// Stop closes every connection and stops the server.
func (s *Server) Stop() { s.grpc.Stop() }

// AppendSystemEvent appends an event as the node itself would (any
// expected revision, a new ID), for example AppendSystemEvent("$stats-node",
// "$statsCollected", ...). It returns the event's log position.
func (s *Server) AppendSystemEvent(stream, typ string, data []byte) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.write(stream, []proposed{{id: uuid.New(), typ: typ, contentType: "application/json", data: data}})
	return recs[0].position
}

// DropSubscriptions ends every running subscription with an error, as a
// node does when it shuts down, loses leadership or finds a subscriber too
// slow, and returns how many it dropped.
func (s *Server) DropSubscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(s.drop)
	s.drop = make(chan struct{})
	return s.subs
}

// Subscriptions returns the number of running subscriptions.
func (s *Server) Subscriptions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.subs
}

// EventsSent returns how many events the server has sent to readers and
// subscribers so far.
func (s *Server) EventsSent() int64 { return s.sent.Load() }

// Len returns the number of events in the log, system events included.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

type proposed struct {
	id          uuid.UUID
	typ         string
	contentType string
	data, meta  []byte
}

// write appends to the log; the caller holds s.mu.
func (s *Server) write(stream string, evs []proposed) []*record {
	now := time.Now().UTC()
	out := make([]*record, len(evs))
	for i, e := range evs {
		r := &record{
			id: e.id, stream: stream, revision: uint64(len(s.streams[stream])), position: s.next,
			typ: e.typ, contentType: e.contentType, data: e.data, meta: e.meta, created: now,
		}
		// A prepare record: a header, the names and the payloads.
		s.next += uint64(80 + len(stream) + len(e.typ) + len(e.data) + len(e.meta))
		s.log = append(s.log, r)
		s.streams[stream] = append(s.streams[stream], r)
		out[i] = r
	}
	close(s.changed)
	s.changed = make(chan struct{})
	return out
}

// ---- Streams ----

type streamsServer struct {
	api.UnimplementedStreamsServer
	s *Server
}

func (ss *streamsServer) Append(stream api.Streams_AppendServer) error {
	s := ss.s
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "the first append message must carry options")
	}
	name := string(opts.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return status.Error(codes.InvalidArgument, "stream name is required")
	}
	var evs []proposed
	size := 0
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := msg.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.InvalidArgument, "expected a proposed message")
		}
		id, err := fromUUID(pm.GetId())
		if err != nil {
			return status.Error(codes.InvalidArgument, err.Error())
		}
		typ := pm.GetMetadata()["type"]
		if typ == "" {
			return status.Error(codes.InvalidArgument, "event type is required")
		}
		size += len(pm.GetData()) + len(pm.GetCustomMetadata())
		evs = append(evs, proposed{id: id, typ: typ, contentType: pm.GetMetadata()["content-type"], data: pm.GetData(), meta: pm.GetCustomMetadata()})
	}
	if size > MaxAppendSize {
		return status.Errorf(codes.InvalidArgument, "Maximum Append Size of %d Exceeded.", MaxAppendSize)
	}
	if err := stream.Context().Err(); err != nil {
		return status.FromContextError(err).Err()
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	resp := s.append(name, opts, evs)
	return stream.SendAndClose(resp)
}

// append decides and performs an append; the caller holds s.mu.
func (s *Server) append(name string, opts *api.AppendReq_Options, evs []proposed) *api.AppendResp {
	recs := s.streams[name]
	cur := int64(len(recs)) - 1 // -1: no stream
	wrong := func() *api.AppendResp {
		w := &api.AppendResp_WrongExpectedVersion{}
		if cur < 0 {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
			w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
		} else {
			w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(cur)}
			w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(cur)}
		}
		switch e := opts.GetExpectedStreamRevision().(type) {
		case *api.AppendReq_Options_Revision:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.Revision}
		case *api.AppendReq_Options_NoStream:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
		case *api.AppendReq_Options_StreamExists:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		default:
			w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		}
		return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
	}
	idempotent := func(last uint64) *api.AppendResp {
		return &api.AppendResp{Result: &api.AppendResp_Success_{Success: &api.AppendResp_Success{
			CurrentRevisionOption: &api.AppendResp_Success_CurrentRevision{CurrentRevision: last},
			PositionOption:        &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}},
		}}}
	}

	var expected int64 // an exact revision, -1 for no_stream
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Revision:
		expected = int64(e.Revision)
	case *api.AppendReq_Options_NoStream:
		expected = -1
	case *api.AppendReq_Options_StreamExists, *api.AppendReq_Options_Any, nil:
		if _, exists := e.(*api.AppendReq_Options_StreamExists); exists && cur < 0 {
			return wrong()
		}
		// Idempotency by the IDs the stream already holds.
		byID := make(map[uuid.UUID]*record, len(recs))
		for _, r := range recs {
			byID[r.id] = r
		}
		var last uint64
		for i, ev := range evs {
			r, ok := byID[ev.id]
			if !ok {
				if i == 0 {
					return s.success(name, evs)
				}
				return wrong() // part of the batch was written before: corrupted idempotency
			}
			last = r.revision
		}
		if len(evs) == 0 {
			return s.success(name, evs)
		}
		return idempotent(last)
	}
	switch {
	case expected < cur:
		for i, ev := range evs {
			n := expected + 1 + int64(i)
			if n <= cur && recs[n].id == ev.id {
				continue
			}
			return wrong()
		}
		if len(evs) == 0 {
			return wrong()
		}
		return idempotent(uint64(expected) + uint64(len(evs)))
	case expected > cur:
		return wrong()
	}
	return s.success(name, evs)
}

func (s *Server) success(name string, evs []proposed) *api.AppendResp {
	ok := &api.AppendResp_Success{}
	if len(evs) == 0 {
		if n := len(s.streams[name]); n > 0 {
			ok.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(n - 1)}
		} else {
			ok.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
		}
		ok.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
		return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
	}
	recs := s.write(name, evs)
	last := recs[len(recs)-1]
	ok.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: last.revision}
	ok.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
		CommitPosition: last.position, PreparePosition: recs[0].position,
	}}
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
}

func (ss *streamsServer) Read(req *api.ReadReq, out api.Streams_ReadServer) error {
	s := ss.s
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "read options are required")
	}
	structured := o.GetUuidOption().GetString_() == nil
	f, err := newFilter(o.GetFilter())
	if err != nil {
		return err
	}
	if o.GetSubscription() != nil {
		return s.subscribe(o, f, structured, out)
	}
	var evs []*record
	s.mu.Lock()
	switch {
	case o.GetStream() != nil:
		so := o.GetStream()
		name := string(so.GetStreamIdentifier().GetStreamName())
		recs := s.streams[name]
		if len(recs) == 0 {
			s.mu.Unlock()
			return out.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
				StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
			}}})
		}
		evs = readStream(recs, so, o.GetReadDirection(), o.GetCount())
	case o.GetAll() != nil:
		evs = s.readAll(o.GetAll(), o.GetReadDirection(), o.GetCount(), f)
	default:
		s.mu.Unlock()
		return status.Error(codes.InvalidArgument, "read of neither a stream nor $all")
	}
	s.mu.Unlock()
	for _, r := range evs {
		if err := out.Send(eventResp(r, structured)); err != nil {
			return err
		}
		s.sent.Add(1)
	}
	return nil
}

func readStream(recs []*record, so *api.ReadReq_Options_StreamOptions, dir api.ReadReq_Options_ReadDirection, count uint64) []*record {
	var out []*record
	n := uint64(len(recs))
	if dir == api.ReadReq_Options_Backwards {
		from := n - 1
		switch ro := so.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			from = min(ro.Revision, n-1)
		case *api.ReadReq_Options_StreamOptions_Start:
			from = 0
		}
		for i := int64(from); i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, recs[i])
		}
		return out
	}
	var from uint64
	switch ro := so.GetRevisionOption().(type) {
	case *api.ReadReq_Options_StreamOptions_Revision:
		from = ro.Revision
	case *api.ReadReq_Options_StreamOptions_End:
		from = n
	}
	for i := from; i < n && uint64(len(out)) < count; i++ {
		out = append(out, recs[i])
	}
	return out
}

// readAll reads $all; the caller holds s.mu.
func (s *Server) readAll(ao *api.ReadReq_Options_AllOptions, dir api.ReadReq_Options_ReadDirection, count uint64, f *filter) []*record {
	var out []*record
	if dir == api.ReadReq_Options_Backwards {
		i := len(s.log) - 1
		switch p := ao.GetAllOption().(type) {
		case *api.ReadReq_Options_AllOptions_Start:
			i = -1
		case *api.ReadReq_Options_AllOptions_Position:
			i = s.index(p.Position.GetCommitPosition()) - 1 // before the position
		}
		for ; i >= 0 && uint64(len(out)) < count; i-- {
			if f.match(s.log[i]) {
				out = append(out, s.log[i])
			}
		}
		return out
	}
	i := s.firstAfter(ao, true)
	for ; i < len(s.log) && uint64(len(out)) < count; i++ {
		if f.match(s.log[i]) {
			out = append(out, s.log[i])
		}
	}
	return out
}

// index returns the index of the first event at or after position p.
func (s *Server) index(p uint64) int {
	lo, hi := 0, len(s.log)
	for lo < hi {
		m := (lo + hi) / 2
		if s.log[m].position < p {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// firstAfter returns the index where a forward read or subscription from ao
// starts: reads include the event at the position, subscriptions do not.
func (s *Server) firstAfter(ao *api.ReadReq_Options_AllOptions, inclusive bool) int {
	switch p := ao.GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_End:
		return len(s.log)
	case *api.ReadReq_Options_AllOptions_Position:
		pos := p.Position.GetCommitPosition()
		i := s.index(pos)
		if !inclusive && i < len(s.log) && s.log[i].position == pos {
			i++
		}
		return i
	}
	return 0
}

func eventResp(r *record, structured bool) *api.ReadResp {
	id := &shared.UUID{}
	if structured {
		msb, lsb := int64(binary.BigEndian.Uint64(r.id[:8])), int64(binary.BigEndian.Uint64(r.id[8:]))
		id.Value = &shared.UUID_Structured_{Structured: &shared.UUID_Structured{MostSignificantBits: msb, LeastSignificantBits: lsb}}
	} else {
		id.Value = &shared.UUID_String_{String_: r.id.String()}
	}
	ticks := r.created.UnixNano() / 100
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               id,
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.position,
			CommitPosition:   r.position,
			Metadata: map[string]string{
				"type":         r.typ,
				"content-type": r.contentType,
				"created":      strconv.FormatInt(ticks, 10),
			},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.position},
	}}}
}

// subscribe serves a catch-up subscription to $all or a stream.
func (s *Server) subscribe(o *api.ReadReq_Options, f *filter, structured bool, out api.Streams_ReadServer) error {
	ctx := out.Context()
	s.mu.Lock()
	s.subs++
	drop := s.drop
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.subs--
		s.mu.Unlock()
	}()
	if err := out.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}); err != nil {
		return err
	}

	// next is the index in s.log of the next event to look at.
	s.mu.Lock()
	var next int
	var stream string
	if so := o.GetStream(); so != nil {
		stream = string(so.GetStreamIdentifier().GetStreamName())
		next = s.streamStart(stream, so)
	} else {
		next = s.firstAfter(o.GetAll(), false)
	}
	s.mu.Unlock()

	checkpointEvery := 0
	if f != nil {
		checkpointEvery = max(1, f.window*max(1, f.multiplier))
	}
	scanned := 0
	caughtUp := false
	for {
		s.mu.Lock()
		batch := s.log[next:min(len(s.log), next+256)]
		changed := s.changed
		s.mu.Unlock()
		for _, r := range batch {
			next++
			if stream != "" && r.stream != stream {
				continue
			}
			if f.match(r) {
				if err := out.Send(eventResp(r, structured)); err != nil {
					return err
				}
				s.sent.Add(1)
			}
			scanned++
			if checkpointEvery > 0 && scanned%checkpointEvery == 0 {
				if err := sendCheckpoint(out, r.position); err != nil {
					return err
				}
			}
		}
		if len(batch) > 0 {
			continue
		}
		if !caughtUp {
			caughtUp = true
			if checkpointEvery > 0 && next > 0 {
				s.mu.Lock()
				p := s.log[next-1].position
				s.mu.Unlock()
				if err := sendCheckpoint(out, p); err != nil {
					return err
				}
			}
			if err := out.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-changed:
		case <-drop:
			return status.Error(codes.Aborted, "subscription dropped by the server")
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
}

func sendCheckpoint(out api.Streams_ReadServer, p uint64) error {
	return out.Send(&api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{CommitPosition: p, PreparePosition: p}}})
}

// streamStart returns the index in s.log after which a stream subscription
// starts; the caller holds s.mu.
func (s *Server) streamStart(name string, so *api.ReadReq_Options_StreamOptions) int {
	recs := s.streams[name]
	switch ro := so.GetRevisionOption().(type) {
	case *api.ReadReq_Options_StreamOptions_Revision:
		if ro.Revision < uint64(len(recs)) {
			return s.index(recs[ro.Revision].position) + 1
		}
		return len(s.log)
	case *api.ReadReq_Options_StreamOptions_End:
		return len(s.log)
	}
	return 0
}

// ---- filters ----

type filter struct {
	onType     bool
	prefixes   []string
	re         *regexp.Regexp
	window     int
	multiplier int
}

func newFilter(fo *api.ReadReq_Options_FilterOptions) (*filter, error) {
	if fo == nil {
		return nil, nil
	}
	f := &filter{window: int(fo.GetMax()), multiplier: int(fo.GetCheckpointIntervalMultiplier())}
	if fo.GetCount() != nil || f.window == 0 {
		f.window = 32
	}
	var ex *api.ReadReq_Options_FilterOptions_Expression
	if fo.GetEventType() != nil {
		f.onType, ex = true, fo.GetEventType()
	} else {
		ex = fo.GetStreamIdentifier()
	}
	f.prefixes = ex.GetPrefix()
	if r := ex.GetRegex(); r != "" {
		re, err := regexp.Compile(r)
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "invalid filter regex %q: %v", r, err)
		}
		f.re = re
	}
	return f, nil
}

func (f *filter) match(r *record) bool {
	if f == nil {
		return true
	}
	v := r.stream
	if f.onType {
		v = r.typ
	}
	if f.re != nil {
		return f.re.MatchString(v)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return len(f.prefixes) == 0
}

// ---- server features and gossip ----

type featuresServer struct {
	serverfeatures.UnimplementedServerFeaturesServer
}

func (featuresServer) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const svc = "event_store.client.streams.streams"
	return &serverfeatures.SupportedMethods{
		EventStoreServerVersion: Version,
		Methods: []*serverfeatures.SupportedMethod{
			{MethodName: "read", ServiceName: svc},
			{MethodName: "append", ServiceName: svc},
		},
	}, nil
}

type gossipServer struct {
	gossip.UnimplementedGossipServer
	s *Server
}

func (g *gossipServer) Read(context.Context, *shared.Empty) (*gossip.ClusterInfo, error) {
	host, port, err := net.SplitHostPort(g.s.Addr())
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	p, _ := strconv.Atoi(port)
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   &shared.UUID{Value: &shared.UUID_String_{String_: uuid.NewSHA1(uuid.NameSpaceURL, []byte(g.s.Addr())).String()}},
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: host, Port: uint32(p)},
	}}}, nil
}

// ---- helpers ----

func fromUUID(u *shared.UUID) (uuid.UUID, error) {
	if st := u.GetStructured(); st != nil {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], uint64(st.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(b[8:], uint64(st.GetLeastSignificantBits()))
		return uuid.UUID(b), nil
	}
	if str := u.GetString_(); str != "" {
		return uuid.Parse(str)
	}
	return uuid.Nil, errors.New("event id is required")
}
