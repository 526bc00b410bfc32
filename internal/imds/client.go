package imds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	sdkimds "github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	tokenPath = "/latest/api/token"

	// maxAttempts is high on purpose: the context deadline, not the count,
	// ends the retries of a service that is not ready yet.
	maxAttempts = 50
	// maxBackoff keeps several retries inside a budget of a few seconds.
	maxBackoff = 200 * time.Millisecond
)

var errNoInstanceType = errors.New("instance identity document has no instanceType")

// client is one SDK client (so the IMDSv2 token is fetched once and reused)
// plus the trace of what it sent.
type client struct {
	sdk       *sdkimds.Client
	endpoint  string
	transport *http.Transport
	trace     *trace
}

func newClient(endpoint string, env metadataEnv, perAttempt time.Duration, log *slog.Logger) *client {
	// A transport of our own: no proxy (the metadata service is link-local
	// and HTTP_PROXY must not capture it), and timeouts sized for one attempt.
	// A plain *http.Client is left alone by imds.New, which would otherwise
	// replace the dial and header timeouts of its buildable client.
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: perAttempt}).DialContext,
		ResponseHeaderTimeout: perAttempt,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       10 * time.Second,
	}
	t := &trace{perAttempt: perAttempt, fallback: !env.v1Disabled}
	fallback := aws.TrueTernary
	if env.v1Disabled {
		fallback = aws.FalseTernary
	}
	sdk := sdkimds.New(sdkimds.Options{
		// Explicit endpoint and enable state: imds.New reads
		// AWS_EC2_METADATA_SERVICE_ENDPOINT and AWS_EC2_METADATA_DISABLED
		// from the process environment only when these are unset.
		Endpoint:          endpoint,
		EndpointMode:      env.mode,
		ClientEnableState: sdkimds.ClientEnabled,
		// imds.New does not read AWS_EC2_METADATA_V1_DISABLED at all (only
		// NewFromConfig does); unset means fall back to IMDSv1.
		EnableFallback: fallback,
		HTTPClient:     &http.Client{Transport: tr, Timeout: perAttempt, CheckRedirect: sameOrigin},
		Retryer: retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = maxAttempts
			so.Backoff = retry.BackoffDelayerFunc(backoff)
			so.RateLimiter = ratelimit.None
			so.Retryables = append([]retry.IsErrorRetryable{retry.NoRetryCanceledError{}, t}, so.Retryables...)
		}),
		// The context carries the deadline of the whole phase; without these
		// the SDK adds its own 5s operation timeout and replaces our backoff
		// with a 1s-capped one.
		DisableDefaultTimeout:    true,
		DisableDefaultMaxBackoff: true,
		Logger:                   sdkLogger(log),
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error {
			return s.Deserialize.Add(t, middleware.Before)
		}},
	})
	return &client{sdk: sdk, endpoint: endpoint, transport: tr, trace: t}
}

func (c *client) close() { c.transport.CloseIdleConnections() }

// sameOrigin follows a redirect only within the metadata service's own
// origin. The metadata service never redirects; an answer that points
// elsewhere is returned as it is (and fails as a 3xx), so the session token
// and every request stay with the service.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 3 || req.URL.Scheme != via[0].URL.Scheme || req.URL.Host != via[0].URL.Host {
		return http.ErrUseLastResponse
	}
	return nil
}

// instanceTypeRE is what an EC2 instance type looks like (family.size, e.g.
// t3.micro, u-6tb1.metal); anything else from the network is refused rather
// than printed.
var instanceTypeRE = regexp.MustCompile(`^[a-z0-9-]+\.[a-z0-9-]+$`)

// checkInstanceType refuses a value that is no instance type.
func checkInstanceType(t string) error {
	if len(t) > 64 || !instanceTypeRE.MatchString(t) {
		return fmt.Errorf("the metadata service answered %s, which is not a valid instance type", strconv.Quote(t))
	}
	return nil
}

// backoff waits 25-50ms, 50-100ms, then 100-200ms between attempts.
func backoff(attempt int, _ error) (time.Duration, error) {
	d := min(50*time.Millisecond<<min(max(attempt-1, 0), 4), maxBackoff)
	return d/2 + rand.N(d/2+1), nil
}

// sdkLogger passes the SDK's own messages on, e.g. "falling back to IMDSv1".
func sdkLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "metadata client: "+fmt.Sprintf(format, v...))
	})
}

// readIdentity fills f from the identity document, one request that holds
// the type, id, region, zone and architecture. When the service answers but
// the document is missing or unreadable, it asks the instance-type path.
// It returns which source gave the type.
func (c *client) readIdentity(ctx context.Context, f *Facts) (string, error) {
	out, err := c.sdk.GetInstanceIdentityDocument(ctx, nil)
	if err == nil {
		d := out.InstanceIdentityDocument
		if d.InstanceType != "" {
			if err := checkInstanceType(d.InstanceType); err != nil {
				return "", err
			}
			f.InstanceType, f.InstanceID, f.Region = d.InstanceType, d.InstanceID, d.Region
			f.AvailabilityZone, f.Architecture = d.AvailabilityZone, d.Architecture
			return "identity_document", nil
		}
		err = errNoInstanceType
	}
	if !worthFallback(ctx, err) {
		return "", err
	}
	typ, err2 := c.getText(ctx, "instance-type")
	if err2 != nil {
		return "", fmt.Errorf("identity document: %w; instance-type: %w", err, err2)
	}
	if typ = strings.TrimSpace(typ); typ == "" {
		return "", fmt.Errorf("identity document: %w; instance-type: empty answer", err)
	}
	if err := checkInstanceType(typ); err != nil {
		return "", err
	}
	f.InstanceType = typ
	return "instance_type_path", nil
}

// worthFallback is true when the service answered the identity document
// request but not with a usable document, and not because of the token or
// authorization (which the instance-type path would hit just the same).
func worthFallback(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var se *statusError
	if errors.As(err, &se) {
		return se.status != http.StatusUnauthorized && se.status != http.StatusForbidden
	}
	var de *smithy.DeserializationError
	return errors.As(err, &de) || errors.Is(err, errNoInstanceType)
}

// getText GETs a path under /latest/meta-data.
func (c *client) getText(ctx context.Context, path string) (string, error) {
	out, err := c.sdk.GetMetadata(ctx, &sdkimds.GetMetadataInput{Path: path})
	if err != nil {
		return "", err
	}
	defer out.Content.Close()
	b, err := io.ReadAll(out.Content)
	return string(b), err
}

// readHibernation asks whether the instance was launched with hibernation
// configured: "true", "false" (also for 404, which AWS's own hibernation
// agents read as "not configured"), or "" when no answer came.
func (c *client) readHibernation(ctx context.Context) string {
	v, err := c.getText(ctx, "hibernation/configured")
	switch {
	case statusOf(err) == http.StatusNotFound:
		return "false"
	case err != nil:
		return ""
	case strings.EqualFold(strings.TrimSpace(v), "true"):
		return "true"
	}
	return "false"
}

// readTags returns the swap-bootstrap:* instance tags, and why some could
// not be read ("" when all were). It lists
// tags/instance first: one request when tags are not exposed in the
// metadata (404, the default) or when none of ours is set, where asking for
// each of the four known names would always cost four; it costs one request
// more only when all four are set. A failure never fails Fetch: the decision
// knows the tags are unknown (Facts.TagsError).
func (c *client) readTags(ctx context.Context, log *slog.Logger) (map[string]string, string) {
	tags := map[string]string{}
	list, err := c.getText(ctx, "tags/instance")
	switch {
	case statusOf(err) == http.StatusNotFound:
		log.Debug("instance tags are not in the metadata; enable them with instance metadata option InstanceMetadataTags=enabled")
		return tags, ""
	case err != nil:
		return tags, fmt.Sprintf("the list of instance tags was not read from %s: %s", c.endpoint, c.short(ctx, err))
	}
	var problems []string
	for _, name := range strings.Split(list, "\n") {
		name = strings.TrimSpace(name)
		if !strings.HasPrefix(name, TagPrefix) {
			continue
		}
		v, err := c.getText(ctx, "tags/instance/"+name)
		switch {
		case statusOf(err) == http.StatusNotFound: // removed since the listing
		case err != nil:
			problems = append(problems, fmt.Sprintf("tag %s was not read from %s: %s", name, c.endpoint, c.short(ctx, err)))
		default:
			tags[name] = v
		}
	}
	if len(tags) > 0 {
		log.Debug("instance tags read", "tags", tags)
	}
	return tags, strings.Join(problems, "; ")
}

// explain turns a failed read into the one-line reason of Unavailable.
func (c *client) explain(ctx context.Context, err error, budget time.Duration, env metadataEnv) string {
	last := c.trace.lastExchange()
	tokenStatus := c.trace.lastTokenStatus()
	switch {
	case env.v1Disabled && (tokenStatus == http.StatusForbidden || tokenStatus == http.StatusNotFound ||
		tokenStatus == http.StatusMethodNotAllowed):
		return fmt.Sprintf("token request refused with %d and %s=true", tokenStatus, envV1Disabled)
	case errors.Is(ctx.Err(), context.DeadlineExceeded) && last.status == 0:
		s := fmt.Sprintf("no answer from %s within %s", c.endpoint, budget)
		if last.err != "" {
			s += " (last attempt: " + last.err + ")"
		}
		return s
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Sprintf("%s gave no instance type within %s (last answer: %s to %s %s)",
			c.endpoint, budget, statusText(last.status), last.method, last.path)
	case ctx.Err() != nil:
		return fmt.Sprintf("asking %s was interrupted: %v", c.endpoint, ctx.Err())
	case last.status == 0 && last.err != "":
		return fmt.Sprintf("no answer from %s (%s)", c.endpoint, last.err)
	case last.status >= 300:
		s := fmt.Sprintf("%s answered %s to %s %s", c.endpoint, statusText(last.status), last.method, last.path)
		if last.status == http.StatusUnauthorized {
			s += " (IMDSv2 token missing or refused)"
		}
		return s
	default:
		return fmt.Sprintf("%s: %v", c.endpoint, err)
	}
}

// short is the error of a failed request in a few words.
func (c *client) short(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "metadata time budget spent"
	}
	if s := statusOf(err); s != 0 {
		return statusText(s)
	}
	if last := c.trace.lastExchange(); last.status == 0 && last.err != "" {
		return last.err
	}
	return err.Error()
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return fmt.Sprint(code)
}

func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}

// statusError carries the HTTP status of a failed request past the SDK's
// own wrappers, some of which do not unwrap.
type statusError struct {
	status int
	err    error
}

func (e *statusError) Error() string       { return e.err.Error() }
func (e *statusError) Unwrap() error       { return e.err }
func (e *statusError) HTTPStatusCode() int { return e.status }

// exchange is one request and what came of it.
type exchange struct {
	method, path string
	status       int    // 0 when no response came
	err          string // transport error in a few words, when no response came
}

// trace is a deserialize middleware on every request of one client (token
// requests included). It records the requests and wraps HTTP errors in
// statusError, and it is the first retry rule:
//   - retry 5xx and 429 (not ready, throttled), never other statuses, except
//     one 401, which the SDK raises to refetch an expired or missing token;
//   - when IMDSv1 fallback is allowed, stop retrying a token request after
//     two timeouts: a container behind the default hop limit of 1 never gets
//     the PUT answer, and the SDK then asks without a token in the time left.
//
// Other errors (connection refused, timeouts) are left to the SDK's rules,
// which retry them.
type trace struct {
	perAttempt time.Duration
	fallback   bool

	mu            sync.Mutex
	requests      int
	last          exchange
	tokenStatus   int
	tokenTimeouts int
	retried401    bool
}

func (*trace) ID() string { return "SwapBootstrapTrace" }

func (t *trace) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	x := exchange{}
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		x.method, x.path = req.Method, req.URL.Path
	}
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
		x.status = resp.StatusCode
	}
	var canceled *smithy.CanceledError
	t.mu.Lock()
	defer t.mu.Unlock()
	t.requests++
	switch {
	case x.status == 0 && errors.As(err, &canceled) && t.last.method != "":
		// Cut off by the phase deadline: the previous attempt says more.
		return out, md, err
	case x.status == 0 && err != nil && !errors.As(err, &canceled):
		x.err = t.transportError(err)
		if x.path == tokenPath && isTimeout(err) {
			t.tokenTimeouts++
		}
	}
	t.last = x
	if x.path == tokenPath {
		t.tokenStatus = x.status
	}
	if err != nil && x.status != 0 {
		err = &statusError{status: x.status, err: err}
	}
	return out, md, err
}

func (t *trace) IsErrorRetryable(err error) aws.Ternary {
	s := statusOf(err)
	switch {
	case s == 0:
		t.mu.Lock()
		defer t.mu.Unlock()
		if t.fallback && t.last.path == tokenPath && t.tokenTimeouts >= 2 {
			return aws.FalseTernary
		}
		return aws.UnknownTernary
	case s >= 500, s == http.StatusTooManyRequests:
		return aws.TrueTernary
	case s == http.StatusUnauthorized:
		t.mu.Lock()
		defer t.mu.Unlock()
		retry := !t.retried401
		t.retried401 = true
		return aws.BoolTernary(retry)
	default:
		return aws.FalseTernary
	}
}

func (t *trace) lastExchange() exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.last
}

func (t *trace) lastTokenStatus() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.tokenStatus
}

func (t *trace) requestCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.requests
}

// transportError says in a few words why no response came.
func (t *trace) transportError(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case isTimeout(err):
		return fmt.Sprintf("no response within %s", t.perAttempt)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
