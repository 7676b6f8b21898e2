package replay

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestRequest(t *testing.T) {
	body := io.NopCloser(strings.NewReader("payload"))
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/", nil)
	req.Body = body // no GetBody, as a caller's own reader has
	r, err := Request(req)
	if err != nil || r.GetBody == nil {
		t.Fatalf("Request: %v, GetBody %v", err, r.GetBody != nil)
	}
	for range 2 {
		b, _ := r.GetBody()
		if data, _ := io.ReadAll(b); string(data) != "payload" {
			t.Errorf("GetBody read %q", data)
		}
	}
	if data, _ := io.ReadAll(r.Body); string(data) != "payload" {
		t.Errorf("Body read %q", data)
	}
	withGetBody, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:9/", strings.NewReader("x"))
	if r, _ := Request(withGetBody); r != withGetBody {
		t.Error("a request with GetBody was copied")
	}
}
