"""Field numbers of the Kubernetes API messages kubectl's `create` generators send as protobuf.

One line per message: `Name: number jsonName type, ...`. Types: `s` string, `i32`/`i64` integers,
`b` bool, `by` bytes (base64 in JSON), `q` Quantity, `ios` IntOrString, `t` Time, `{s}` `{by}`
`{q}` maps of those, `Name` a message, `~Name` a message embedded inline (its fields join the
parent's, like Go's embedded structs), `_` ignored (server-owned status). Suffix `*` repeated, `?` a
pointer field: its zero value is kept (other zero scalars are what Go writes for "unset" and are
dropped). The subset covers what the generators emit plus the pod-spec fields a Job or CronJob
template commonly carries; a field outside it is refused by the decoder rather than lost.
"""

from __future__ import annotations

from dataclasses import dataclass

_MESSAGES = """
ObjectMeta: 1 name s, 2 generateName s, 3 namespace s, 4 selfLink s, 5 uid s, 6 resourceVersion s,
  7 generation i64, 8 creationTimestamp t, 9 deletionTimestamp t, 10 deletionGracePeriodSeconds i64?,
  11 labels {s}, 12 annotations {s}, 13 ownerReferences OwnerReference*, 14 finalizers s*
OwnerReference: 1 kind s, 3 name s, 4 uid s, 5 apiVersion s, 6 controller b?, 7 blockOwnerDeletion b?
LabelSelector: 1 matchLabels {s}, 2 matchExpressions LabelSelectorRequirement*
LabelSelectorRequirement: 1 key s, 2 operator s, 3 values s*
LocalObjectReference: 1 name s
ObjectReference: 1 kind s, 2 namespace s, 3 name s, 4 uid s, 5 apiVersion s, 6 resourceVersion s,
  7 fieldPath s
TypedLocalObjectReference: 1 apiGroup s?, 2 kind s, 3 name s

Namespace: 1 metadata ObjectMeta, 2 spec NamespaceSpec, 3 status _
NamespaceSpec: 1 finalizers s*
ConfigMap: 1 metadata ObjectMeta, 2 data {s}, 3 binaryData {by}, 4 immutable b?
Secret: 1 metadata ObjectMeta, 2 data {by}, 3 type s, 4 stringData {s}, 5 immutable b?
ServiceAccount: 1 metadata ObjectMeta, 2 secrets ObjectReference*, 3 imagePullSecrets LocalObjectReference*,
  4 automountServiceAccountToken b?
Service: 1 metadata ObjectMeta, 2 spec ServiceSpec, 3 status _
ServiceSpec: 1 ports ServicePort*, 2 selector {s}, 3 clusterIP s, 4 type s, 5 externalIPs s*,
  7 sessionAffinity s, 8 loadBalancerIP s, 9 loadBalancerSourceRanges s*, 10 externalName s,
  11 externalTrafficPolicy s, 12 healthCheckNodePort i32, 13 publishNotReadyAddresses b
ServicePort: 1 name s, 2 protocol s, 3 port i32, 4 targetPort ios, 5 nodePort i32, 6 appProtocol s?
ResourceQuota: 1 metadata ObjectMeta, 2 spec ResourceQuotaSpec, 3 status _
ResourceQuotaSpec: 1 hard {q}, 2 scopes s*, 3 scopeSelector ScopeSelector
ScopeSelector: 1 matchExpressions ScopedResourceSelectorRequirement*
ScopedResourceSelectorRequirement: 1 scopeName s, 2 operator s, 3 values s*

PodTemplateSpec: 1 metadata ObjectMeta, 2 spec PodSpec
PodSpec: 1 volumes Volume*, 2 containers Container*, 3 restartPolicy s,
  4 terminationGracePeriodSeconds i64?,
  5 activeDeadlineSeconds i64?, 6 dnsPolicy s, 7 nodeSelector {s}, 8 serviceAccountName s,
  9 serviceAccount s, 10 nodeName s, 11 hostNetwork b, 12 hostPID b, 13 hostIPC b,
  14 securityContext PodSecurityContext, 15 imagePullSecrets LocalObjectReference*, 16 hostname s,
  17 subdomain s, 18 affinity Affinity, 19 schedulerName s, 20 initContainers Container*,
  21 automountServiceAccountToken b?, 22 tolerations Toleration*, 23 hostAliases HostAlias*,
  24 priorityClassName s, 25 priority i32?, 27 shareProcessNamespace b?, 29 runtimeClassName s?,
  30 enableServiceLinks b?, 31 preemptionPolicy s?, 33 topologySpreadConstraints TopologySpreadConstraint*
Container: 1 name s, 2 image s, 3 command s*, 4 args s*, 5 workingDir s, 6 ports ContainerPort*,
  7 env EnvVar*, 8 resources ResourceRequirements, 9 volumeMounts VolumeMount*, 10 livenessProbe Probe,
  11 readinessProbe Probe, 12 lifecycle Lifecycle, 13 terminationMessagePath s, 14 imagePullPolicy s,
  15 securityContext SecurityContext, 16 stdin b, 17 stdinOnce b, 18 tty b, 19 envFrom EnvFromSource*,
  20 terminationMessagePolicy s, 22 startupProbe Probe, 24 restartPolicy s?
ContainerPort: 1 name s, 2 hostPort i32, 3 containerPort i32, 4 protocol s, 5 hostIP s
EnvVar: 1 name s, 2 value s, 3 valueFrom EnvVarSource
EnvVarSource: 1 fieldRef ObjectFieldSelector, 2 resourceFieldRef ResourceFieldSelector,
  3 configMapKeyRef ConfigMapKeySelector, 4 secretKeyRef SecretKeySelector
ObjectFieldSelector: 1 apiVersion s, 2 fieldPath s
ResourceFieldSelector: 1 containerName s, 2 resource s, 3 divisor q
ConfigMapKeySelector: 1 _ ~LocalObjectReference, 2 key s, 3 optional b?
SecretKeySelector: 1 _ ~LocalObjectReference, 2 key s, 3 optional b?
EnvFromSource: 1 prefix s, 2 configMapRef ConfigMapEnvSource, 3 secretRef SecretEnvSource
ConfigMapEnvSource: 1 _ ~LocalObjectReference, 2 optional b?
SecretEnvSource: 1 _ ~LocalObjectReference, 2 optional b?
ResourceRequirements: 1 limits {q}, 2 requests {q}
VolumeMount: 1 name s, 2 readOnly b, 3 mountPath s, 4 subPath s, 5 mountPropagation s?, 6 subPathExpr s
Probe: 1 _ ~ProbeHandler, 2 initialDelaySeconds i32, 3 timeoutSeconds i32, 4 periodSeconds i32,
  5 successThreshold i32, 6 failureThreshold i32, 7 terminationGracePeriodSeconds i64?
ProbeHandler: 1 exec ExecAction, 2 httpGet HTTPGetAction, 3 tcpSocket TCPSocketAction, 4 grpc GRPCAction
Lifecycle: 1 postStart LifecycleHandler, 2 preStop LifecycleHandler
LifecycleHandler: 1 exec ExecAction, 2 httpGet HTTPGetAction, 3 tcpSocket TCPSocketAction
ExecAction: 1 command s*
HTTPGetAction: 1 path s, 2 port ios, 3 host s, 4 scheme s, 5 httpHeaders HTTPHeader*
HTTPHeader: 1 name s, 2 value s
TCPSocketAction: 1 port ios, 2 host s
GRPCAction: 1 port i32, 2 service s?
SecurityContext: 1 capabilities Capabilities, 2 privileged b?, 4 runAsUser i64?, 5 runAsNonRoot b?,
  6 readOnlyRootFilesystem b?, 7 allowPrivilegeEscalation b?, 8 runAsGroup i64?,
  11 seccompProfile SeccompProfile
Capabilities: 1 add s*, 2 drop s*
SeccompProfile: 1 type s, 2 localhostProfile s?
PodSecurityContext: 2 runAsUser i64?, 3 runAsNonRoot b?, 4 supplementalGroups i64*, 5 fsGroup i64?,
  6 runAsGroup i64?, 9 fsGroupChangePolicy s?, 10 seccompProfile SeccompProfile
Volume: 1 name s, 2 _ ~VolumeSource
VolumeSource: 1 hostPath HostPathVolumeSource, 2 emptyDir! EmptyDirVolumeSource,
  6 secret SecretVolumeSource,
  7 nfs NFSVolumeSource, 10 persistentVolumeClaim PersistentVolumeClaimVolumeSource,
  16 downwardAPI DownwardAPIVolumeSource, 19 configMap ConfigMapVolumeSource,
  26 projected ProjectedVolumeSource
HostPathVolumeSource: 1 path s, 2 type s?
EmptyDirVolumeSource: 1 medium s, 2 sizeLimit q
SecretVolumeSource: 1 secretName s, 2 items KeyToPath*, 3 defaultMode i32?, 4 optional b?
NFSVolumeSource: 1 server s, 2 path s, 3 readOnly b
PersistentVolumeClaimVolumeSource: 1 claimName s, 2 readOnly b
DownwardAPIVolumeSource: 1 items DownwardAPIVolumeFile*, 2 defaultMode i32?
DownwardAPIVolumeFile: 1 path s, 2 fieldRef ObjectFieldSelector,
  3 resourceFieldRef ResourceFieldSelector, 4 mode i32?
ConfigMapVolumeSource: 1 _ ~LocalObjectReference, 2 items KeyToPath*, 3 defaultMode i32?, 4 optional b?
KeyToPath: 1 key s, 2 path s, 3 mode i32?
ProjectedVolumeSource: 1 sources VolumeProjection*, 2 defaultMode i32?
VolumeProjection: 1 secret SecretProjection, 2 downwardAPI DownwardAPIProjection,
  3 configMap ConfigMapProjection,
  4 serviceAccountToken ServiceAccountTokenProjection
SecretProjection: 1 _ ~LocalObjectReference, 2 items KeyToPath*, 4 optional b?
ConfigMapProjection: 1 _ ~LocalObjectReference, 2 items KeyToPath*, 4 optional b?
DownwardAPIProjection: 1 items DownwardAPIVolumeFile*
ServiceAccountTokenProjection: 1 audience s, 2 expirationSeconds i64?, 3 path s
Toleration: 1 key s, 2 operator s, 3 value s, 4 effect s, 5 tolerationSeconds i64?
HostAlias: 1 ip s, 2 hostnames s*
Affinity: 1 nodeAffinity NodeAffinity, 2 podAffinity PodAffinity, 3 podAntiAffinity PodAntiAffinity
NodeAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution NodeSelector,
  2 preferredDuringSchedulingIgnoredDuringExecution PreferredSchedulingTerm*
NodeSelector: 1 nodeSelectorTerms NodeSelectorTerm*
NodeSelectorTerm: 1 matchExpressions NodeSelectorRequirement*, 2 matchFields NodeSelectorRequirement*
NodeSelectorRequirement: 1 key s, 2 operator s, 3 values s*
PreferredSchedulingTerm: 1 weight i32, 2 preference NodeSelectorTerm
PodAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution PodAffinityTerm*,
  2 preferredDuringSchedulingIgnoredDuringExecution WeightedPodAffinityTerm*
PodAntiAffinity: 1 requiredDuringSchedulingIgnoredDuringExecution PodAffinityTerm*,
  2 preferredDuringSchedulingIgnoredDuringExecution WeightedPodAffinityTerm*
PodAffinityTerm: 1 labelSelector LabelSelector, 2 namespaces s*, 3 topologyKey s,
  4 namespaceSelector LabelSelector
WeightedPodAffinityTerm: 1 weight i32, 2 podAffinityTerm PodAffinityTerm
TopologySpreadConstraint: 1 maxSkew i32, 2 topologyKey s, 3 whenUnsatisfiable s,
  4 labelSelector LabelSelector,
  5 minDomains i32?

Deployment: 1 metadata ObjectMeta, 2 spec DeploymentSpec, 3 status _
DeploymentSpec: 1 replicas i32?, 2 selector LabelSelector, 3 template PodTemplateSpec,
  4 strategy DeploymentStrategy,
  5 minReadySeconds i32, 6 revisionHistoryLimit i32?, 7 paused b, 9 progressDeadlineSeconds i32?
DeploymentStrategy: 1 type s, 2 rollingUpdate RollingUpdateDeployment
RollingUpdateDeployment: 1 maxUnavailable ios, 2 maxSurge ios
Job: 1 metadata ObjectMeta, 2 spec JobSpec, 3 status _
JobSpec: 1 parallelism i32?, 2 completions i32?, 3 activeDeadlineSeconds i64?, 4 selector LabelSelector,
  5 manualSelector b?, 6 template PodTemplateSpec, 7 backoffLimit i32?, 8 ttlSecondsAfterFinished i32?,
  9 completionMode s?, 10 suspend b?
CronJob: 1 metadata ObjectMeta, 2 spec CronJobSpec, 3 status _
CronJobSpec: 1 schedule s, 2 startingDeadlineSeconds i64?, 3 concurrencyPolicy s, 4 suspend b?,
  5 jobTemplate JobTemplateSpec, 6 successfulJobsHistoryLimit i32?, 7 failedJobsHistoryLimit i32?,
  8 timeZone s?
JobTemplateSpec: 1 metadata ObjectMeta, 2 spec JobSpec
PodDisruptionBudget: 1 metadata ObjectMeta, 2 spec PodDisruptionBudgetSpec, 3 status _
PodDisruptionBudgetSpec: 1 minAvailable ios, 2 selector LabelSelector, 3 maxUnavailable ios,
  4 unhealthyPodEvictionPolicy s?
Role: 1 metadata ObjectMeta, 2 rules PolicyRule*
ClusterRole: 1 metadata ObjectMeta, 2 rules PolicyRule*
PolicyRule: 1 verbs s*, 2 apiGroups s*, 3 resources s*, 4 resourceNames s*, 5 nonResourceURLs s*
RoleBinding: 1 metadata ObjectMeta, 2 subjects Subject*, 3 roleRef RoleRef
ClusterRoleBinding: 1 metadata ObjectMeta, 2 subjects Subject*, 3 roleRef RoleRef
Subject: 1 kind s, 2 apiGroup s, 3 name s, 4 namespace s
RoleRef: 1 apiGroup s, 2 kind s, 3 name s
Ingress: 1 metadata ObjectMeta, 2 spec IngressSpec, 3 status _
IngressSpec: 1 defaultBackend IngressBackend, 2 tls IngressTLS*, 3 rules IngressRule*, 4 ingressClassName s?
IngressBackend: 3 resource TypedLocalObjectReference, 4 service IngressServiceBackend
IngressServiceBackend: 1 name s, 2 port ServiceBackendPort
ServiceBackendPort: 1 name s, 2 number i32
IngressTLS: 1 hosts s*, 2 secretName s
IngressRule: 1 host s, 2 _ ~IngressRuleValue
IngressRuleValue: 1 http HTTPIngressRuleValue
HTTPIngressRuleValue: 1 paths HTTPIngressPath*
HTTPIngressPath: 1 path s, 2 backend IngressBackend, 3 pathType s?
PriorityClass: 1 metadata ObjectMeta, 2 value i32, 3 globalDefault b, 4 description s, 5 preemptionPolicy s?
HorizontalPodAutoscaler: 1 metadata ObjectMeta, 2 spec HorizontalPodAutoscalerSpec, 3 status _
HorizontalPodAutoscalerSpec: 1 scaleTargetRef CrossVersionObjectReference, 2 minReplicas i32?,
  3 maxReplicas i32,
  4 targetCPUUtilizationPercentage i32?
CrossVersionObjectReference: 1 kind s, 2 name s, 3 apiVersion s
"""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a message."""

    name: str
    type: str  # s i32 i64 b by q ios t {s} {by} {q} _ or a message name
    repeated: bool = False
    pointer: bool = False  # the zero value is meaningful (Go pointer), keep it
    inline: bool = False  # embedded struct: its fields are the parent's in JSON
    keep_empty: bool = False  # an empty message still means something (emptyDir: {})


def _parse(text: str) -> dict[str, dict[int, FieldSpec]]:
    messages: dict[str, dict[int, FieldSpec]] = {}
    joined = ""
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        joined += ("\n" if ":" in line.split(" ", 1)[0] else " ") + line
    for entry in joined.strip().splitlines():
        name, _, body = entry.partition(":")
        fields: dict[int, FieldSpec] = {}
        for part in body.split(","):
            number, field_name, type_ = part.split()
            repeated = type_.endswith("*")
            pointer = type_.endswith("?")
            type_ = type_.rstrip("*?")
            keep_empty = field_name.endswith("!")
            field_name = field_name.rstrip("!")
            inline = type_.startswith("~")
            fields[int(number)] = FieldSpec(
                field_name, type_.lstrip("~"), repeated, pointer, inline, keep_empty
            )
        messages[name.strip()] = fields
    return messages


MESSAGES = _parse(_MESSAGES)
