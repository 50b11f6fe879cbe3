package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/components/requestreply"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
)

// NATS JetStream settings.
const (
	// natsStreamMaxAge bounds how long a stream the bus creates keeps its
	// messages: long enough for a stopped consumer group to catch up after
	// a long weekend; the event store, not the broker, is the record.
	natsStreamMaxAge = 7 * 24 * time.Hour
	// natsDuplicateWindow is how long JetStream remembers the IDs of
	// forwarded events (Nats-Msg-Id): a batch the forwarder publishes again
	// after a crash is not stored twice.
	natsDuplicateWindow = 2 * time.Minute
	// natsAckWait is how long a consumer group waits for the member that
	// holds a message before the broker gives it to another: it must cover
	// the handler and its retries (see RetryConfig). A member that dies
	// while it holds a message delays its group by up to this long (one
	// that stops hands its message over at once).
	natsAckWait = time.Minute
	// natsMaxName bounds stream and consumer names (they name files on the
	// server).
	natsMaxName = 64
	// natsRequestTimeout bounds the JetStream API calls that provision
	// streams and consumers, and flushing a reply.
	natsRequestTimeout = 10 * time.Second
)

// natsTransport is NATS JetStream.
//
//   - Each topic is a subject (natsSubject: "evcrm.events.case", or
//     "<namespace>.evcrm.events.case") and has a stream of its own named
//     after it (natsName: "evcrm_events_case"): file storage, limits
//     retention (natsStreamMaxAge), duplicate window natsDuplicateWindow. The
//     bus creates a stream on first use, or uses one that an operator made
//     to hold the subject (with its own retention and replicas); it never
//     changes an existing stream.
//   - Each (topic, handler name) is a durable push consumer named after the
//     handler (natsName: "evcrm_command_OpenCase") with the same name as
//     deliver group, so every process subscribed under that name is in one
//     queue group. It starts with the oldest message the stream holds,
//     acknowledges explicitly (AckSync once the handler succeeded) and
//     allows one unacknowledged message at a time: the group handles the
//     topic in order, one member at a time. A member that stops hands over
//     at once (natsSubscriber); one that dies, or does not acknowledge
//     within natsAckWait, is replaced by another after that wait. The bus
//     creates the consumer itself and only binds to it, so that a process
//     unsubscribing leaves it (and its position) in place for the others.
//   - Publish returns once JetStream has stored the message (PubAck).
//     Forwarded events carry their ID as Nats-Msg-Id.
//   - Replies travel on core NATS, not JetStream: each request subscribes to
//     "<reply topic subject>.<operation ID>" before the command is sent, and
//     the reply is published (and flushed) to that subject. A reply lost
//     with a connection times the request out; sending the command again
//     with the same command ID replays the original result.
//
// The payload is the message body; the UUID and metadata are headers (see
// natsMarshaler).
//
// Publishing and the reply path are watermill-nats's; consuming is
// natsSubscriber's. One connection per process carries it all, and
// reconnects forever.
type natsTransport struct {
	namespace    string
	log          watermill.LoggerAdapter
	slog         *slog.Logger
	closeTimeout time.Duration

	conn      *nats.Conn
	js        nats.JetStreamContext
	publisher *wmnats.Publisher // JetStream
	replies   *wmnats.Publisher // core NATS

	streams sync.Map // topic → stream name, once provisioned

	mu     sync.Mutex
	subs   []*natsSubscriber
	closed bool
}

var _ Transport = (*natsTransport)(nil)

func newNATS(cfg Config, log watermill.LoggerAdapter) (*natsTransport, error) {
	t := &natsTransport{
		namespace:    cfg.Namespace,
		log:          log,
		slog:         cfg.Logger.With("component", "bus.nats"),
		closeTimeout: cfg.CloseTimeout,
	}
	conn, err := nats.Connect(cfg.URL, t.options("evcrm")...)
	if err != nil {
		return nil, fmt.Errorf("bus: connecting to NATS: %w", err)
	}
	fail := func(what string, err error) (*natsTransport, error) {
		conn.Close()
		return nil, fmt.Errorf("bus: NATS %s: %w", what, err)
	}
	t.conn = conn
	if t.js, err = conn.JetStream(nats.MaxWait(natsRequestTimeout)); err != nil {
		return fail("JetStream", err)
	}
	// Fail at start, not at the first publish, on a server without JetStream.
	if _, err := t.js.AccountInfo(); err != nil {
		return fail("JetStream (is it enabled on the server?)", err)
	}
	t.publisher, err = wmnats.NewPublisherWithNatsConn(conn, wmnats.PublisherPublishConfig{
		Marshaler:         natsMarshaler{subject: t.topicSubject, dedupe: isEventTopic},
		SubjectCalculator: t.subjectDetail,
		// Streams are provisioned by ensureStream: the library would name
		// them after the topic, and a stream name cannot contain dots.
		JetStream: wmnats.JetStreamConfig{ConnectOptions: []nats.JSOpt{nats.MaxWait(natsRequestTimeout)}},
	}, log)
	if err != nil {
		return fail("publisher", err)
	}
	t.replies, err = wmnats.NewPublisherWithNatsConn(conn, wmnats.PublisherPublishConfig{
		Marshaler:         natsMarshaler{subject: t.replySubject},
		SubjectCalculator: t.subjectDetail,
		JetStream:         wmnats.JetStreamConfig{Disabled: true},
	}, log)
	if err != nil {
		return fail("reply publisher", err)
	}
	return t, nil
}

// options are every connection's: named (server monitoring shows which
// handler a connection serves), reconnecting forever, logged.
func (t *natsTransport) options(name string) []nats.Option {
	return []nats.Option{
		nats.Name(name),
		nats.Timeout(5 * time.Second),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				t.slog.Warn("NATS connection lost; reconnecting", "connection", name, "error", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			t.slog.Info("NATS connection re-established", "connection", name, "server", c.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			t.slog.Error("NATS asynchronous error", "connection", name, "subject", subject, "error", err)
		}),
	}
}

// subject is the NATS subject of a topic.
func (t *natsTransport) subject(topic string) string {
	return natsSubject(namespaced(t.namespace, topic))
}

func (t *natsTransport) topicSubject(topic string, _ *message.Message) (string, error) {
	return t.subject(topic), nil
}

// replySubject is where the reply msg answers: the reply topic's subject
// and the request's operation ID.
func (t *natsTransport) replySubject(topic string, msg *message.Message) (string, error) {
	op := msg.Metadata.Get(requestreply.OperationIDMetadataKey)
	if op == "" {
		return "", fmt.Errorf("bus: reply %s to %s has no operation ID", msg.UUID, topic)
	}
	return t.subject(topic) + "." + natsToken(op), nil
}

func (t *natsTransport) subjectDetail(queueGroup, topic string) *wmnats.SubjectDetail {
	return &wmnats.SubjectDetail{Primary: t.subject(topic), QueueGroup: queueGroup}
}

// ensureStream makes sure a stream holds the subject of topic, and returns
// its name. It asks the server once per topic and process.
func (t *natsTransport) ensureStream(topic string) (string, error) {
	if name, ok := t.streams.Load(topic); ok {
		return name.(string), nil
	}
	subject := t.subject(topic)
	name, err := t.js.StreamNameBySubject(subject)
	if errors.Is(err, nats.ErrNoMatchingStream) {
		name = natsName(namespaced(t.namespace, topic))
		_, err = t.js.AddStream(&nats.StreamConfig{
			Name:        name,
			Description: "evcrm bus topic " + topic,
			Subjects:    []string{subject},
			Retention:   nats.LimitsPolicy,
			Storage:     nats.FileStorage,
			Discard:     nats.DiscardOld,
			MaxAge:      natsStreamMaxAge,
			Duplicates:  natsDuplicateWindow,
			Replicas:    1,
		})
		if errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
			err = nil // another process created it meanwhile
		}
	}
	if err != nil {
		return "", fmt.Errorf("bus: NATS stream for topic %s (subject %s): %w", topic, subject, err)
	}
	t.streams.Store(topic, name)
	return name, nil
}

// ensureConsumer makes sure the durable consumer of a handler exists on a
// stream (see natsTransport). An existing consumer is left as it is.
func (t *natsTransport) ensureConsumer(stream, durable, handlerName, topic string) error {
	_, err := t.js.ConsumerInfo(stream, durable)
	if errors.Is(err, nats.ErrConsumerNotFound) {
		_, err = t.js.AddConsumer(stream, &nats.ConsumerConfig{
			Durable:        durable,
			Description:    "evcrm bus handler " + handlerName,
			DeliverSubject: "_INBOX.evcrm." + stream + "." + durable,
			DeliverGroup:   durable,
			DeliverPolicy:  nats.DeliverAllPolicy,
			FilterSubject:  t.subject(topic),
			AckPolicy:      nats.AckExplicitPolicy,
			AckWait:        natsAckWait,
			MaxDeliver:     -1,
			MaxAckPending:  1,
			ReplayPolicy:   nats.ReplayInstantPolicy,
		})
		var apiErr *nats.APIError
		if errors.As(err, &apiErr) && (apiErr.ErrorCode == nats.JSErrCodeConsumerAlreadyExists ||
			apiErr.ErrorCode == nats.JSErrCodeConsumerNameExists) {
			err = nil // another process created it meanwhile
		}
	}
	if err != nil {
		return fmt.Errorf("bus: NATS consumer %s on stream %s: %w", durable, stream, err)
	}
	return nil
}

func (t *natsTransport) Publisher() message.Publisher      { return natsPublisher{t} }
func (t *natsTransport) ReplyPublisher() message.Publisher { return natsReplyPublisher{t} }

func (t *natsTransport) Subscriber(handlerName string) (message.Subscriber, error) {
	if handlerName == "" {
		return nil, errors.New("bus: a NATS subscriber needs a handler name")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("bus: NATS transport closed")
	}
	sub := &natsSubscriber{t: t, handlerName: handlerName, durable: natsName(handlerName), closing: make(chan struct{})}
	t.subs = append(t.subs, sub)
	return sub, nil
}

func (t *natsTransport) ReplySubscriber(operationID string) (message.Subscriber, error) {
	sub, err := wmnats.NewSubscriberWithNatsConn(t.conn, wmnats.SubscriberSubscriptionConfig{
		Unmarshaler: natsMarshaler{},
		SubjectCalculator: func(_, topic string) *wmnats.SubjectDetail {
			return &wmnats.SubjectDetail{Primary: t.subject(topic) + "." + natsToken(operationID)}
		},
		JetStream: wmnats.JetStreamConfig{Disabled: true},
	}, t.log)
	if err != nil {
		return nil, fmt.Errorf("bus: NATS reply subscriber: %w", err)
	}
	return natsReplySubscriber{t: t, sub: sub}, nil
}

func (t *natsTransport) Close() error {
	t.mu.Lock()
	subs := t.subs
	t.subs, t.closed = nil, true
	t.mu.Unlock()
	var errs []error
	for _, s := range subs {
		errs = append(errs, s.Close())
	}
	if !t.conn.IsClosed() {
		// What was published is stored already (PubAck); flush the rest
		// (acknowledgements, replies) before closing.
		if err := t.conn.FlushTimeout(natsRequestTimeout); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			t.slog.Warn("flushing the NATS connection", "error", err)
		}
	}
	t.conn.Close()
	return errors.Join(errs...)
}

// natsPublisher provisions a topic's stream before its first publish.
type natsPublisher struct{ t *natsTransport }

func (p natsPublisher) Publish(topic string, msgs ...*message.Message) error {
	if _, err := p.t.ensureStream(topic); err != nil {
		return err
	}
	if err := p.t.publisher.Publish(topic, msgs...); err != nil {
		// Ask the server again before the next try: the stream may have
		// been deleted.
		p.t.streams.Delete(topic)
		return fmt.Errorf("bus: publishing to NATS subject %s: %w", p.t.subject(topic), err)
	}
	return nil
}

// Close does nothing: the transport owns the connection.
func (natsPublisher) Close() error { return nil }

// natsReplyPublisher publishes replies on core NATS and flushes them, so a
// command is acknowledged only once its reply has reached the server.
type natsReplyPublisher struct{ t *natsTransport }

func (p natsReplyPublisher) Publish(topic string, msgs ...*message.Message) error {
	if err := p.t.replies.Publish(topic, msgs...); err != nil {
		return fmt.Errorf("bus: publishing a reply on NATS: %w", err)
	}
	if err := p.t.conn.FlushTimeout(natsRequestTimeout); err != nil {
		return fmt.Errorf("bus: flushing a reply on NATS: %w", err)
	}
	return nil
}

func (natsReplyPublisher) Close() error { return nil }

// natsSubscriber consumes a topic as one member of its handler's queue
// group (see natsTransport), on the transport's connection. It is written
// on nats.go rather than taken from watermill-nats, whose subscriber drops
// (without Nak) what arrives while it closes, so that with one message in
// flight per group a process that stops stalls its group for natsAckWait;
// and whose subscriptions delete a durable consumer they created when they
// end.
//
// When it closes, the message its handler holds is finished and
// acknowledged, and whatever arrives until the server has the
// unsubscription is refused at once (Nak), so another process of the
// group takes over without waiting.
type natsSubscriber struct {
	t                    *natsTransport
	handlerName, durable string

	closing   chan struct{}
	closeOnce sync.Once
	mu        sync.Mutex
	holding   int           // messages handed to the handler, not yet acked or nacked
	idle      chan struct{} // closed when holding drops to 0 while Close waits
	subs      sync.WaitGroup
}

func (s *natsSubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	select {
	case <-s.closing:
		s.mu.Unlock()
		return nil, errors.New("bus: NATS subscriber closed")
	default:
	}
	s.subs.Add(1)
	s.mu.Unlock()
	started := false
	defer func() {
		if !started {
			s.subs.Done()
		}
	}()

	stream, err := s.t.ensureStream(topic)
	if err != nil {
		return nil, err
	}
	if err := s.t.ensureConsumer(stream, s.durable, s.handlerName, topic); err != nil {
		return nil, err
	}
	o := &natsOutput{ch: make(chan *message.Message)}
	subject := s.t.subject(topic)
	sub, err := s.t.js.QueueSubscribe(subject, s.durable, func(m *nats.Msg) { s.handle(ctx, o, m) },
		nats.Bind(stream, s.durable), nats.ManualAck())
	if err != nil {
		return nil, fmt.Errorf("bus: subscribing %s to NATS subject %s: %w", s.handlerName, subject, err)
	}
	started = true
	go func() {
		defer s.subs.Done()
		select {
		case <-ctx.Done():
		case <-s.closing:
		}
		// Drain: the server stops delivering, and what it had sent goes
		// through handle (which refuses it) before the subscription ends.
		closed := sub.StatusChanged(nats.SubscriptionClosed)
		if err := sub.Drain(); err == nil {
			t := time.NewTimer(s.t.closeTimeout)
			select {
			case <-closed:
			case <-t.C:
			}
			t.Stop()
		}
		o.close()
	}()
	return o.ch, nil
}

// handle hands one message to the handler and waits for its verdict. It
// runs on the subscription's goroutine: one message at a time, in order.
func (s *natsSubscriber) handle(ctx context.Context, o *natsOutput, m *nats.Msg) {
	if !s.hold() {
		s.nak(m)
		return
	}
	defer s.release()
	msg, _ := natsMarshaler{}.Unmarshal(m)
	msgCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	msg.SetContext(msgCtx)
	if !o.send(ctx, s.closing, msg) {
		s.nak(m)
		return
	}
	t := time.NewTimer(natsAckWait)
	defer t.Stop()
	select {
	case <-msg.Acked():
		if err := m.AckSync(); err != nil {
			s.t.slog.Warn("acknowledging a NATS message failed; it will be delivered again",
				"handler", s.handlerName, "message_uuid", msg.UUID, "error", err)
		}
	case <-msg.Nacked():
		s.nak(m)
	case <-t.C:
		s.t.slog.Warn("a message was not handled within the ack wait; the broker delivers it again",
			"handler", s.handlerName, "message_uuid", msg.UUID, "ack_wait", natsAckWait)
	}
}

func (s *natsSubscriber) nak(m *nats.Msg) {
	if err := m.Nak(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		s.t.slog.Debug("refusing a NATS message failed; the broker delivers it again after the ack wait",
			"handler", s.handlerName, "error", err)
	}
}

// hold counts a message handed to the handler, unless the subscriber is
// closing.
func (s *natsSubscriber) hold() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.closing:
		return false
	default:
	}
	s.holding++
	return true
}

func (s *natsSubscriber) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding--
	if s.holding == 0 && s.idle != nil {
		close(s.idle)
		s.idle = nil
	}
}

// Close finishes the messages the handlers hold and ends the
// subscriptions, each bounded by the close timeout.
func (s *natsSubscriber) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.closing)
		var idle chan struct{}
		if s.holding > 0 {
			s.idle = make(chan struct{})
			idle = s.idle
		}
		s.mu.Unlock()
		deadline := time.NewTimer(s.t.closeTimeout)
		defer deadline.Stop()
		if idle != nil {
			select {
			case <-idle:
			case <-deadline.C:
				err = fmt.Errorf("bus: NATS subscriber %s closed while its handler still held a message", s.handlerName)
			}
		}
		done := make(chan struct{})
		go func() { s.subs.Wait(); close(done) }()
		select {
		case <-done:
		case <-deadline.C:
			err = errors.Join(err, fmt.Errorf("bus: NATS subscriber %s: subscriptions did not end in time", s.handlerName))
		}
	})
	return err
}

// natsOutput is a subscription's channel to the handler: closed once, never
// sent on after.
type natsOutput struct {
	ch     chan *message.Message
	mu     sync.RWMutex
	closed bool
}

// send hands msg over, unless the subscription is ending.
func (o *natsOutput) send(ctx context.Context, closing <-chan struct{}, msg *message.Message) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.closed {
		return false
	}
	select {
	case o.ch <- msg:
		return true
	case <-closing:
	case <-ctx.Done():
	}
	return false
}

func (o *natsOutput) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.closed {
		o.closed = true
		close(o.ch)
	}
}

// natsReplySubscriber subscribes on the transport's connection, and makes
// sure the server has the subscription before the request is sent.
type natsReplySubscriber struct {
	t   *natsTransport
	sub *wmnats.Subscriber
}

func (s natsReplySubscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	ch, err := s.sub.Subscribe(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("bus: subscribing to NATS replies: %w", err)
	}
	if err := s.t.conn.FlushTimeout(natsRequestTimeout); err != nil {
		return nil, fmt.Errorf("bus: subscribing to NATS replies: %w", err)
	}
	return ch, nil
}

// Close does nothing: the subscription ends with the request's context
// (closing a watermill-nats subscriber would drain the shared connection).
func (natsReplySubscriber) Close() error { return nil }

func isEventTopic(topic string) bool { return strings.HasPrefix(topic, EventTopicPrefix) }

// natsMetadataHeader carries, as JSON, what headers cannot: a UUID or
// metadata whose key is not an HTTP token or is reserved by NATS (Nats-*),
// or whose value has control characters or leading or trailing blanks
// (NATS headers would drop, trim or rewrite them).
const natsMetadataHeader = "_evcrm_metadata"

// natsMarshaler carries a watermill message in a NATS message: the payload
// is the body; the UUID is the header _watermill_message_uuid (as
// watermill-nats writes it) and each metadata entry a header of its own, so
// other NATS clients read them as they are; whatever a header cannot carry
// exactly goes into natsMetadataHeader. Unmarshal never fails: a message it
// cannot read fully is handed to the handler, whose checks send it to the
// poison queue, rather than redelivered forever.
type natsMarshaler struct {
	subject func(topic string, msg *message.Message) (string, error)
	// dedupe says which topics' messages carry their UUID as Nats-Msg-Id.
	dedupe func(topic string) bool
}

type natsOverflow struct {
	UUID     *string           `json:"uuid,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

func (m natsMarshaler) Marshal(topic string, msg *message.Message) (*nats.Msg, error) {
	subject, err := m.subject(topic, msg)
	if err != nil {
		return nil, err
	}
	hdr := nats.Header{}
	var over natsOverflow
	if natsHeaderValueSafe(msg.UUID) {
		hdr.Set(wmnats.WatermillUUIDHdr, msg.UUID)
	} else {
		id := msg.UUID
		over.UUID = &id
	}
	for k, v := range msg.Metadata {
		if natsHeaderKeySafe(k) && natsHeaderValueSafe(v) {
			hdr.Set(k, v)
			continue
		}
		if over.Metadata == nil {
			over.Metadata = map[string]string{}
		}
		over.Metadata[k] = v
	}
	if over.UUID != nil || over.Metadata != nil {
		b, err := json.Marshal(over)
		if err != nil {
			return nil, fmt.Errorf("bus: encoding the metadata of message %s: %w", msg.UUID, err)
		}
		hdr.Set(natsMetadataHeader, string(b))
	}
	if m.dedupe != nil && m.dedupe(topic) && msg.UUID != "" && natsHeaderValueSafe(msg.UUID) {
		hdr.Set(nats.MsgIdHdr, msg.UUID)
	}
	return &nats.Msg{Subject: subject, Header: hdr, Data: msg.Payload}, nil
}

func (natsMarshaler) Unmarshal(nm *nats.Msg) (*message.Message, error) {
	md := make(message.Metadata, len(nm.Header))
	for k, vs := range nm.Header {
		if len(vs) == 0 || k == wmnats.WatermillUUIDHdr || k == natsMetadataHeader || natsReservedHeader(k) {
			continue
		}
		md[k] = vs[0]
	}
	id := nm.Header.Get(wmnats.WatermillUUIDHdr)
	if raw := nm.Header.Get(natsMetadataHeader); raw != "" {
		var over natsOverflow
		if err := json.Unmarshal([]byte(raw), &over); err != nil {
			md[natsMetadataHeader] = raw // for whoever reads the poison queue
		} else {
			if over.UUID != nil {
				id = *over.UUID
			}
			for k, v := range over.Metadata {
				md[k] = v
			}
		}
	}
	msg := message.NewMessage(id, nm.Data)
	msg.Metadata = md
	return msg, nil
}

// natsReservedHeader: headers NATS interprets (Nats-Msg-Id,
// Nats-Expected-Stream...).
func natsReservedHeader(k string) bool {
	return len(k) >= 5 && strings.EqualFold(k[:5], "nats-")
}

// natsHeaderKeySafe: an HTTP token (NATS headers are written as HTTP
// headers, which drops other keys) that NATS does not interpret.
func natsHeaderKeySafe(k string) bool {
	if k == "" || k == wmnats.WatermillUUIDHdr || k == natsMetadataHeader || natsReservedHeader(k) {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// natsHeaderValueSafe: a value a header carries unchanged (no control
// characters, which are rewritten, no leading or trailing blanks, which are
// trimmed).
func natsHeaderValueSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return false
		}
	}
	return v == "" || (v[0] != ' ' && v[len(v)-1] != ' ')
}

// natsName maps a topic or handler name to a NATS stream or consumer name,
// which cannot contain dots: letters, digits and '-' are kept and '.'
// becomes '_' ("evcrm.events.case" → "evcrm_events_case"). A name with any
// other character ('_' included), or longer than natsMaxName, is written
// with '_' for those characters, shortened if need be, and suffixed with a
// hash of the original, so that two names never map to one.
func natsName(s string) string {
	var b strings.Builder
	exact := true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			b.WriteByte(c)
		case c == '.':
			b.WriteByte('_')
		default:
			b.WriteByte('_')
			exact = false
		}
	}
	out := b.String()
	if exact && out != "" && len(out) <= natsMaxName {
		return out
	}
	h := fnv.New32a()
	h.Write([]byte(s))
	return fmt.Sprintf("%s_%08x", out[:min(len(out), natsMaxName-9)], h.Sum32())
}

// natsSubject maps a topic to a NATS subject: its dot-separated tokens stay
// tokens, escaped by natsToken. The bus's own topics map to themselves.
func natsSubject(topic string) string {
	tokens := strings.Split(topic, ".")
	for i, tok := range tokens {
		tokens[i] = natsToken(tok)
	}
	return strings.Join(tokens, ".")
}

// natsToken escapes one subject token: bytes a token cannot hold (blanks,
// control characters, '*', '>', '.'), non-ASCII bytes and '%' itself are
// written %XX, and the empty token is "%", so the mapping is one to one.
func natsToken(s string) string {
	if s == "" {
		return "%"
	}
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		clean = !natsEscaped(s[i])
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; natsEscaped(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func natsEscaped(c byte) bool {
	return c <= ' ' || c >= 0x7f || c == '*' || c == '>' || c == '.' || c == '%'
}
