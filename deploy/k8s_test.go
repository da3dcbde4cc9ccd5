package deploy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// kustomization is kustomize's file, decoded as strictly as the rest.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Namespace  string   `json:"namespace"`
	Resources  []string `json:"resources"`
}

// manifests is every object under k8s/, by kind.
type manifests struct {
	files        map[string]int // file → objects in it
	kustomize    *kustomization
	namespaces   []*corev1.Namespace
	configMaps   []*corev1.ConfigMap
	secrets      []*corev1.Secret
	services     []*corev1.Service
	deployments  map[string]*appsv1.Deployment
	ingresses    []*networkingv1.Ingress
	pdbs         []*policyv1.PodDisruptionBudget
	hpas         []*autoscalingv2.HorizontalPodAutoscaler
	objectMetas  []metav1.ObjectMeta
	decodeErrors []string
}

// decodeStrict decodes one YAML document into v: YAML duplicate keys and
// fields v's type does not have are errors.
func decodeStrict(doc []byte, v any) error {
	j, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data")
	}
	return nil
}

// documents splits a multi-document YAML file.
func documents(data []byte) [][]byte {
	var docs [][]byte
	var cur []string
	flush := func() {
		doc := strings.TrimSpace(strings.Join(cur, "\n"))
		cur = nil
		// A document of comments only is no object.
		for line := range strings.SplitSeq(doc, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, []byte(doc))
				return
			}
		}
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.TrimRight(line, " ") == "---" {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	paths, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	m := &manifests{files: map[string]int{}, deployments: map[string]*appsv1.Deployment{}}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range documents(data) {
			where := fmt.Sprintf("%s#%d", path, i+1)
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			m.files[filepath.Base(path)]++
			var obj any
			switch head.APIVersion + "/" + head.Kind {
			case "kustomize.config.k8s.io/v1beta1/Kustomization":
				m.kustomize = &kustomization{}
				obj = m.kustomize
			case "v1/Namespace":
				o := &corev1.Namespace{}
				m.namespaces, obj = append(m.namespaces, o), o
			case "v1/ConfigMap":
				o := &corev1.ConfigMap{}
				m.configMaps, obj = append(m.configMaps, o), o
			case "v1/Secret":
				o := &corev1.Secret{}
				m.secrets, obj = append(m.secrets, o), o
			case "v1/Service":
				o := &corev1.Service{}
				m.services, obj = append(m.services, o), o
			case "apps/v1/Deployment":
				o := &appsv1.Deployment{}
				obj = o
				defer func() { m.deployments[o.Name] = o }()
			case "networking.k8s.io/v1/Ingress":
				o := &networkingv1.Ingress{}
				m.ingresses, obj = append(m.ingresses, o), o
			case "policy/v1/PodDisruptionBudget":
				o := &policyv1.PodDisruptionBudget{}
				m.pdbs, obj = append(m.pdbs, o), o
			case "autoscaling/v2/HorizontalPodAutoscaler":
				o := &autoscalingv2.HorizontalPodAutoscaler{}
				m.hpas, obj = append(m.hpas, o), o
			default:
				t.Errorf("%s: %s %s is not a kind this test knows: add it", where, head.APIVersion, head.Kind)
				continue
			}
			if err := decodeStrict(doc, obj); err != nil {
				m.decodeErrors = append(m.decodeErrors, where+": "+err.Error())
			}
		}
	}
	return m
}

func varsByName() map[string]Variable {
	out := map[string]Variable{}
	for _, v := range Variables() {
		out[v.Name] = v
	}
	return out
}

// metricsPort is the port of the default METRICS_ADDR of the deployments.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("METRICS_ADDR %q: %v", addr, err)
	}
	return port
}

// The Kubernetes manifests decode strictly into the API types, pass the
// API's name and label validation, hang together (selectors, ports,
// Secret keys) and agree with the binary's configuration table, port and
// probe paths.
func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	for _, e := range m.decodeErrors {
		t.Errorf("strict decoding: %s", e)
	}
	if t.Failed() {
		t.FailNow()
	}
	vars := varsByName()

	t.Run("NamesAndLabelsAreValid", func(t *testing.T) {
		var metas []metav1.ObjectMeta
		for _, o := range m.namespaces {
			metas = append(metas, o.ObjectMeta)
		}
		for _, o := range m.configMaps {
			metas = append(metas, o.ObjectMeta)
		}
		for _, o := range m.secrets {
			metas = append(metas, o.ObjectMeta)
		}
		for _, o := range m.services {
			metas = append(metas, o.ObjectMeta)
			for _, msg := range validation.IsDNS1035Label(o.Name) {
				t.Errorf("service %s: %s", o.Name, msg)
			}
		}
		for _, o := range m.deployments {
			metas = append(metas, o.ObjectMeta, o.Spec.Template.ObjectMeta)
		}
		for _, o := range m.ingresses {
			metas = append(metas, o.ObjectMeta)
		}
		for _, o := range m.pdbs {
			metas = append(metas, o.ObjectMeta)
		}
		for _, o := range m.hpas {
			metas = append(metas, o.ObjectMeta)
		}
		for _, meta := range metas {
			if meta.Name != "" {
				for _, msg := range validation.IsDNS1123Subdomain(meta.Name) {
					t.Errorf("name %q: %s", meta.Name, msg)
				}
			}
			if meta.Namespace != "" && meta.Namespace != m.kustomize.Namespace {
				t.Errorf("%s: namespace %q, the kustomization's is %q", meta.Name, meta.Namespace, m.kustomize.Namespace)
			}
			for k, v := range meta.Labels {
				for _, msg := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
					t.Errorf("%s: label %s=%s: %s", meta.Name, k, v, msg)
				}
			}
		}
	})

	t.Run("KustomizationListsEveryManifest", func(t *testing.T) {
		want := []string{}
		for f := range m.files {
			if f != "kustomization.yaml" && f != "secret.template.yaml" {
				want = append(want, f)
			}
		}
		got := slices.Clone(m.kustomize.Resources)
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("kustomization resources %v, manifests %v (the Secret template is left out on purpose)", got, want)
		}
		if slices.Contains(m.kustomize.Resources, "secret.template.yaml") {
			t.Error("the Secret template must not be applied")
		}
	})

	if len(m.configMaps) != 1 || len(m.secrets) != 1 {
		t.Fatalf("want one ConfigMap and one Secret template, got %d and %d", len(m.configMaps), len(m.secrets))
	}
	cm, secret := m.configMaps[0], m.secrets[0]
	port := cm.Data["PORT"]
	if port == "" {
		port = DefaultPort
	}
	metricsPort := portOf(t, cm.Data["METRICS_ADDR"])

	t.Run("ConfigMapHoldsKnownNonSecretSettings", func(t *testing.T) {
		for k := range cm.Data {
			v, ok := vars[k]
			switch {
			case !ok:
				t.Errorf("ConfigMap sets %s, which the binary does not read", k)
			case v.Secret:
				t.Errorf("ConfigMap sets the secret %s: it belongs in the Secret", k)
			}
		}
		if cm.Data["SERVE_JOBS"] != "false" {
			t.Error("web pods must not run jobs on MongoDB (SERVE_JOBS=false): the jobs Deployment does")
		}
	})

	t.Run("SecretTemplateHoldsTheSecrets", func(t *testing.T) {
		for k := range secret.StringData {
			if v, ok := vars[k]; !ok || (!v.Secret && k != "ADMIN_EMAIL") {
				t.Errorf("Secret key %s: not a secret setting of the binary", k)
			}
		}
		for _, k := range []string{"MONGO_URI", "ADMIN_TOKEN"} {
			if _, ok := secret.StringData[k]; !ok {
				t.Errorf("the Secret template has no %s", k)
			}
		}
	})

	web, jobs := m.deployments["loandesk-web"], m.deployments["loandesk-jobs"]
	if web == nil || jobs == nil {
		t.Fatalf("want Deployments loandesk-web and loandesk-jobs, got %v", m.deployments)
	}
	for _, d := range []*appsv1.Deployment{web, jobs} {
		t.Run("Deployment_"+d.Name, func(t *testing.T) {
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("selector %v does not match the pod labels %v (%v)", d.Spec.Selector, d.Spec.Template.Labels, err)
			}
			pod := d.Spec.Template.Spec
			if pod.SecurityContext == nil || pod.SecurityContext.RunAsNonRoot == nil || !*pod.SecurityContext.RunAsNonRoot ||
				pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 {
				t.Error("the pod must run as a non-root user")
			}
			if len(pod.Containers) != 1 {
				t.Fatalf("%d containers", len(pod.Containers))
			}
			c := pod.Containers[0]
			sc := c.SecurityContext
			if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
				sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
				t.Error("the container needs readOnlyRootFilesystem, no privilege escalation and all capabilities dropped")
			}
			tmp := false
			for _, vm := range c.VolumeMounts {
				tmp = tmp || vm.MountPath == "/tmp"
			}
			if !tmp {
				t.Error("no writable /tmp (OCR and Go's temporary files need it on a read-only root)")
			}
			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				if c.Resources.Requests.Name(r, "").IsZero() || c.Resources.Limits.Name(r, "").IsZero() {
					t.Errorf("no %s request and limit", r)
				}
			}
			configMapRef := false
			for _, ef := range c.EnvFrom {
				if ef.ConfigMapRef != nil {
					configMapRef = configMapRef || ef.ConfigMapRef.Name == cm.Name
				}
				if ef.SecretRef != nil {
					t.Error("envFrom a Secret hides which secrets a pod gets: name them in env")
				}
			}
			if !configMapRef {
				t.Errorf("the settings ConfigMap %s is not used", cm.Name)
			}
			for _, e := range c.Env {
				for _, msg := range validation.IsEnvVarName(e.Name) {
					t.Errorf("env %s: %s", e.Name, msg)
				}
				v, ok := vars[e.Name]
				if !ok {
					t.Errorf("env %s: the binary does not read it", e.Name)
					continue
				}
				ref := e.ValueFrom
				if v.Secret && (e.Value != "" || ref == nil || ref.SecretKeyRef == nil) {
					t.Errorf("env %s is a secret: take it from the Secret (secretKeyRef)", e.Name)
				}
				if ref != nil && ref.SecretKeyRef != nil {
					if ref.SecretKeyRef.Name != secret.Name {
						t.Errorf("env %s: from Secret %s, the template is %s", e.Name, ref.SecretKeyRef.Name, secret.Name)
					}
					if _, ok := secret.StringData[ref.SecretKeyRef.Key]; !ok {
						t.Errorf("env %s: key %s is not in the Secret template", e.Name, ref.SecretKeyRef.Key)
					}
				}
			}
			ports := map[string]int32{}
			for _, p := range c.Ports {
				for _, msg := range validation.IsValidPortName(p.Name) {
					t.Errorf("port %s: %s", p.Name, msg)
				}
				ports[p.Name] = p.ContainerPort
			}
			if fmt.Sprint(ports["metrics"]) != metricsPort {
				t.Errorf("metrics port %d, METRICS_ADDR's is %s", ports["metrics"], metricsPort)
			}
			probe := func(name string, p *corev1.Probe, path, portName string) {
				t.Helper()
				switch {
				case p == nil || p.HTTPGet == nil:
					t.Errorf("no %s HTTP probe", name)
				case p.HTTPGet.Path != path || p.HTTPGet.Port.String() != portName:
					t.Errorf("%s probe %s on %s, want %s on %s", name, p.HTTPGet.Path, p.HTTPGet.Port.String(), path, portName)
				}
			}
			switch d.Name {
			case "loandesk-web":
				if !slices.Equal(c.Args, []string{"serve"}) || !strings.HasPrefix(c.Image, "loandesk:") {
					t.Errorf("web runs %s %v", c.Image, c.Args)
				}
				if fmt.Sprint(ports["http"]) != port {
					t.Errorf("http port %d, PORT is %s", ports["http"], port)
				}
				probe("liveness", c.LivenessProbe, HealthPath, "http")
				probe("readiness", c.ReadinessProbe, ReadyPath, "http")
				probe("startup", c.StartupProbe, HealthPath, "http")
				if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
					t.Fatal("no preStop sleep: a stopping pod must keep serving until the endpoints drop it")
				}
				// preStop, then the server's 20 s to finish in-flight requests.
				if grace := pod.TerminationGracePeriodSeconds; grace == nil || *grace < c.Lifecycle.PreStop.Sleep.Seconds+20 {
					t.Errorf("terminationGracePeriodSeconds %v leaves the server less than 20 s after preStop", grace)
				}
				if d.Spec.Replicas == nil || *d.Spec.Replicas < 3 {
					t.Error("fewer than 3 web replicas")
				}
			case "loandesk-jobs":
				if !slices.Equal(c.Args, []string{"jobs"}) || !strings.HasPrefix(c.Image, "loandesk-jobs:") {
					t.Errorf("jobs runs %s %v (the jobs image has tesseract and poppler)", c.Image, c.Args)
				}
				probe("liveness", c.LivenessProbe, MetricsPath, "metrics")
			}
		})
	}

	webPod := web.Spec.Template
	webPorts := map[string]bool{}
	for _, p := range webPod.Spec.Containers[0].Ports {
		webPorts[p.Name] = true
	}
	t.Run("ServiceAndIngressReachTheWebPods", func(t *testing.T) {
		if len(m.services) != 1 || len(m.ingresses) != 1 {
			t.Fatalf("want one Service and one Ingress, got %d and %d", len(m.services), len(m.ingresses))
		}
		svc, ing := m.services[0], m.ingresses[0]
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(webPod.Labels)) {
			t.Errorf("the Service selects %v, not the web pods %v", svc.Spec.Selector, webPod.Labels)
		}
		svcPorts := map[string]bool{}
		for _, p := range svc.Spec.Ports {
			svcPorts[p.Name] = true
			if !webPorts[p.TargetPort.String()] {
				t.Errorf("Service port %s targets %s, which the web container does not name", p.Name, p.TargetPort.String())
			}
		}
		for _, rule := range ing.Spec.Rules {
			for _, p := range rule.HTTP.Paths {
				b := p.Backend.Service
				if b == nil || b.Name != svc.Name || !svcPorts[b.Port.Name] {
					t.Errorf("Ingress path %s goes to %+v, not a port of Service %s", p.Path, b, svc.Name)
				}
			}
		}
	})

	t.Run("AutoscalerAndDisruptionBudgets", func(t *testing.T) {
		if len(m.hpas) != 1 {
			t.Fatalf("%d HPAs", len(m.hpas))
		}
		h := m.hpas[0]
		if h.Spec.ScaleTargetRef.Kind != "Deployment" || h.Spec.ScaleTargetRef.Name != web.Name || h.Spec.MinReplicas == nil || *h.Spec.MinReplicas != 3 || h.Spec.MaxReplicas != 50 {
			t.Errorf("HPA scales %+v from %v to %d, want %s 3 to 50", h.Spec.ScaleTargetRef, h.Spec.MinReplicas, h.Spec.MaxReplicas, web.Name)
		}
		cpu70 := false
		for _, mt := range h.Spec.Metrics {
			cpu70 = cpu70 || mt.Resource != nil && mt.Resource.Name == corev1.ResourceCPU && mt.Resource.Target.AverageUtilization != nil && *mt.Resource.Target.AverageUtilization == 70
		}
		if !cpu70 {
			t.Error("the HPA does not target 70 % CPU")
		}
		covered := map[string]bool{}
		for _, pdb := range m.pdbs {
			sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
			if err != nil {
				t.Fatal(err)
			}
			if pdb.Spec.MinAvailable == nil && pdb.Spec.MaxUnavailable == nil {
				t.Errorf("PDB %s sets no budget", pdb.Name)
			}
			for _, d := range m.deployments {
				if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					covered[d.Name] = true
				}
			}
		}
		for name := range m.deployments {
			if !covered[name] {
				t.Errorf("no PodDisruptionBudget covers %s", name)
			}
		}
	})
}

func mustAtoi(t *testing.T, s string) uint32 {
	t.Helper()
	var n uint32
	if _, err := fmt.Sscan(s, &n); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return n
}

// The strict decoding refuses what the API server would: a misspelt
// field, a duplicate key, a malformed quantity.
func TestDecodeStrict(t *testing.T) {
	t.Parallel()
	for name, doc := range map[string]string{
		"UnknownField":  "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  selectr: {a: b}\n",
		"DuplicateKey":  "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  name: y\n",
		"WrongQuantity": "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: x\n          resources:\n            limits:\n              cpu: lots\n",
	} {
		var v any = &corev1.Service{}
		if strings.Contains(doc, "Deployment") {
			v = &appsv1.Deployment{}
		}
		if err := decodeStrict([]byte(doc), v); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
