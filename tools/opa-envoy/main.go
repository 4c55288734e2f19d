// Command opa-envoy is the OPA reference for `npm run bench:authz`: OPA's own Go evaluator (the pinned
// version) behind envoy.service.auth.v3.Authorization/Check, building its input and reading its result
// the way opa-envoy-plugin's envoyauth package does (protojson request, version, parsed_path,
// parsed_query, parsed_body, truncated_body; bool or object result; decision id in dynamic metadata).
// It stands in for opa-envoy-plugin because the module proxy reachable here refuses that module.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"
	typev3 "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/util"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// revision is the hash of this file, set by scripts/tools.sh so the cached binary follows the source.
var revision string

type server struct {
	authv3.UnimplementedAuthorizationServer
	query rego.PreparedEvalQuery
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9191", "listen address")
	path := flag.String("path", "envoy/authz/allow", "decision path")
	flag.Parse()
	opts := []func(*rego.Rego){rego.Query("data." + strings.ReplaceAll(strings.Trim(*path, "/"), "/", "."))}
	for _, f := range flag.Args() {
		src, err := os.ReadFile(f)
		if err != nil {
			log.Fatal(err)
		}
		opts = append(opts, rego.Module(f, string(src)))
	}
	query, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	s := grpc.NewServer()
	authv3.RegisterAuthorizationServer(s, &server{query: query})
	fmt.Println("listening", lis.Addr().String(), "revision", revision)
	log.Fatal(s.Serve(lis))
}

func (s *server) Check(ctx context.Context, req *authv3.CheckRequest) (*authv3.CheckResponse, error) {
	id := decisionID()
	input, err := toInput(req)
	if err != nil {
		return &authv3.CheckResponse{
			Status: &rpcstatus.Status{Code: int32(codes.PermissionDenied), Message: err.Error()},
			HttpResponse: &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{
				Status: &typev3.HttpStatus{Code: typev3.StatusCode_BadRequest}, Body: err.Error(),
			}},
		}, nil
	}
	rs, err := s.query.Eval(ctx, rego.EvalInput(input))
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, fmt.Errorf("undefined decision")
	}
	return response(rs[0].Expressions[0].Value, id)
}

func toInput(req *authv3.CheckRequest) (map[string]interface{}, error) {
	http := req.GetAttributes().GetRequest().GetHttp()
	if http == nil {
		return nil, fmt.Errorf("missing required attributes in v3 CheckRequest")
	}
	bs, err := protojson.Marshal(req)
	if err != nil {
		return nil, err
	}
	var input map[string]interface{}
	if err := util.UnmarshalJSON(bs, &input); err != nil {
		return nil, err
	}
	input["version"] = map[string]interface{}{"ext_authz": "v3", "encoding": "protojson"}
	u, err := url.Parse(http.GetPath())
	if err != nil {
		return nil, err
	}
	segments := strings.Split(strings.TrimLeft(u.Path, "/"), "/")
	parsedPath := make([]interface{}, len(segments))
	for i, v := range segments {
		parsedPath[i] = v
	}
	parsedQuery := map[string]interface{}{}
	for k, vs := range u.Query() {
		values := make([]interface{}, len(vs))
		for i, v := range vs {
			values[i] = v
		}
		parsedQuery[k] = values
	}
	input["parsed_path"] = parsedPath
	input["parsed_query"] = parsedQuery
	var body interface{}
	truncated := false
	if ct := http.GetHeaders()["content-type"]; strings.Contains(ct, "application/json") && http.GetBody() != "" {
		if cl, ok := http.GetHeaders()["content-length"]; ok {
			n, err := strconv.ParseInt(cl, 10, 64)
			if err != nil {
				return nil, err
			}
			truncated = n != -1 && n > int64(len(http.GetBody()))
		}
		if !truncated {
			if err := util.UnmarshalJSON([]byte(http.GetBody()), &body); err != nil {
				return nil, err
			}
		}
	}
	input["parsed_body"] = body
	input["truncated_body"] = truncated
	return input, nil
}

func response(decision interface{}, id string) (*authv3.CheckResponse, error) {
	resp := &authv3.CheckResponse{DynamicMetadata: &structpb.Struct{Fields: map[string]*structpb.Value{"decision_id": structpb.NewStringValue(id)}}}
	switch d := decision.(type) {
	case bool:
		resp.Status = &rpcstatus.Status{Code: code(d)}
		return resp, nil
	case map[string]interface{}:
		allowed, ok := d["allowed"].(bool)
		if !ok {
			return nil, fmt.Errorf("missing or non-boolean \"allowed\"")
		}
		resp.Status = &rpcstatus.Status{Code: code(allowed)}
		headers, err := headerOptions(d["headers"])
		if err != nil {
			return nil, err
		}
		if meta, ok := d["dynamic_metadata"].(map[string]interface{}); ok {
			for k, v := range meta {
				if pv, err := structpb.NewValue(jsonable(v)); err == nil {
					resp.DynamicMetadata.Fields[k] = pv
				}
			}
		}
		if allowed {
			toAdd, err := headerOptions(d["response_headers_to_add"])
			if err != nil {
				return nil, err
			}
			var remove []string
			if list, ok := d["request_headers_to_remove"].([]interface{}); ok {
				for _, x := range list {
					if s, ok := x.(string); ok {
						remove = append(remove, s)
					}
				}
			}
			resp.HttpResponse = &authv3.CheckResponse_OkResponse{OkResponse: &authv3.OkHttpResponse{Headers: headers, HeadersToRemove: remove, ResponseHeadersToAdd: toAdd}}
			return resp, nil
		}
		status := typev3.StatusCode_Forbidden
		if n, ok := d["http_status"].(json.Number); ok {
			v, err := n.Int64()
			if err != nil {
				return nil, err
			}
			if _, known := typev3.StatusCode_name[int32(v)]; !known {
				return nil, fmt.Errorf("invalid HTTP status code %v", v)
			}
			status = typev3.StatusCode(v)
		}
		body, _ := d["body"].(string)
		resp.HttpResponse = &authv3.CheckResponse_DeniedResponse{DeniedResponse: &authv3.DeniedHttpResponse{Status: &typev3.HttpStatus{Code: status}, Headers: headers, Body: body}}
		return resp, nil
	}
	return nil, fmt.Errorf("illegal value for policy evaluation result: %T", decision)
}

func headerOptions(v interface{}) ([]*corev3.HeaderValueOption, error) {
	var out []*corev3.HeaderValueOption
	take := func(m map[string]interface{}) error {
		for k, x := range m {
			s, ok := x.(string)
			if !ok {
				return fmt.Errorf("type assertion error")
			}
			out = append(out, &corev3.HeaderValueOption{Header: &corev3.HeaderValue{Key: k, Value: s}})
		}
		return nil
	}
	switch h := v.(type) {
	case nil:
		return nil, nil
	case map[string]interface{}:
		return out, take(h)
	case []interface{}:
		for _, x := range h {
			m, ok := x.(map[string]interface{})
			if !ok {
				return nil, fmt.Errorf("type assertion error")
			}
			if err := take(m); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("type assertion error")
}

// jsonable turns json.Number (how OPA returns numbers) into float64 for structpb.
func jsonable(v interface{}) interface{} {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]interface{}:
		out := make(map[string]interface{}, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case []interface{}:
		out := make([]interface{}, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	}
	return v
}

func code(allowed bool) int32 {
	if allowed {
		return int32(codes.OK)
	}
	return int32(codes.PermissionDenied)
}

func decisionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
