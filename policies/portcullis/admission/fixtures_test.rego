# Verbatim copies of test/fixtures/admission/*.json (AdmissionReview bodies), inlined because
# JSON files under policies/ would be shipped in the bundle's data.
package portcullis.admission_test

fixture_pod_create_deployment := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {
		"uid": "705ab4f5-6393-11e8-b7cc-42010a800002",
		"kind": {
			"group": "",
			"version": "v1",
			"kind": "Pod",
		},
		"resource": {
			"group": "",
			"version": "v1",
			"resource": "pods",
		},
		"requestKind": {
			"group": "",
			"version": "v1",
			"kind": "Pod",
		},
		"requestResource": {
			"group": "",
			"version": "v1",
			"resource": "pods",
		},
		"namespace": "payments",
		"operation": "CREATE",
		"userInfo": {
			"username": "system:serviceaccount:kube-system:replicaset-controller",
			"uid": "9a5d2f0e-1b47-4c2e-9d1b-6a0f3e2b8c11",
			"groups": [
				"system:serviceaccounts",
				"system:serviceaccounts:kube-system",
				"system:authenticated",
			],
		},
		"object": {
			"apiVersion": "v1",
			"kind": "Pod",
			"metadata": {
				"generateName": "payment-service-7d9c6b5f4-",
				"namespace": "payments",
				"labels": {
					"app": "payment-service",
					"version": "v2",
					"pod-template-hash": "7d9c6b5f4",
				},
				"annotations": {
					"kubectl.kubernetes.io/restartedAt": "2026-11-20T09:14:03Z",
				},
				"ownerReferences": [
					{
						"apiVersion": "apps/v1",
						"kind": "ReplicaSet",
						"name": "payment-service-7d9c6b5f4",
						"uid": "3f1c9a7e-8b2d-4e61-a5f0-2c7d9e4b1a66",
						"controller": true,
						"blockOwnerDeletion": true,
					},
				],
			},
			"spec": {
				"serviceAccountName": "payment-service",
				"automountServiceAccountToken": true,
				"securityContext": {
					"runAsNonRoot": true,
					"runAsUser": 10001,
					"fsGroup": 10001,
					"seccompProfile": {
						"type": "RuntimeDefault",
					},
				},
				"containers": [
					{
						"name": "payment-service",
						"image": "registry.example.com/payments/payment-service:2.4.1",
						"imagePullPolicy": "IfNotPresent",
						"ports": [
							{
								"name": "http",
								"containerPort": 8080,
								"protocol": "TCP",
							},
							{
								"name": "grpc-internal",
								"containerPort": 9000,
								"protocol": "TCP",
							},
							{
								"name": "http-metrics",
								"containerPort": 9102,
								"protocol": "TCP",
							},
						],
						"env": [
							{
								"name": "POD_NAME",
								"valueFrom": {
									"fieldRef": {
										"apiVersion": "v1",
										"fieldPath": "metadata.name",
									},
								},
							},
							{
								"name": "POD_NAMESPACE",
								"valueFrom": {
									"fieldRef": {
										"apiVersion": "v1",
										"fieldPath": "metadata.namespace",
									},
								},
							},
							{
								"name": "LEDGER_URL",
								"value": "http://ledger.payments.svc.cluster.local:8080",
							},
							{
								"name": "DB_PASSWORD",
								"valueFrom": {
									"secretKeyRef": {
										"name": "payment-db",
										"key": "password",
									},
								},
							},
						],
						"resources": {
							"requests": {
								"cpu": "250m",
								"memory": "256Mi",
							},
							"limits": {
								"cpu": "1",
								"memory": "512Mi",
							},
						},
						"readinessProbe": {
							"httpGet": {
								"path": "/ready",
								"port": 8080,
								"scheme": "HTTP",
							},
							"initialDelaySeconds": 3,
							"periodSeconds": 5,
							"timeoutSeconds": 1,
							"successThreshold": 1,
							"failureThreshold": 3,
						},
						"livenessProbe": {
							"httpGet": {
								"path": "/healthz",
								"port": 8080,
								"scheme": "HTTP",
							},
							"initialDelaySeconds": 10,
							"periodSeconds": 10,
							"timeoutSeconds": 1,
							"successThreshold": 1,
							"failureThreshold": 3,
						},
						"securityContext": {
							"allowPrivilegeEscalation": false,
							"readOnlyRootFilesystem": true,
							"capabilities": {
								"drop": [
									"ALL",
								],
							},
						},
						"volumeMounts": [
							{
								"name": "tmp",
								"mountPath": "/tmp",
							},
							{
								"name": "config",
								"mountPath": "/etc/payment-service",
								"readOnly": true,
							},
							{
								"name": "kube-api-access-x7k2p",
								"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
								"readOnly": true,
							},
						],
						"terminationMessagePath": "/dev/termination-log",
						"terminationMessagePolicy": "File",
					},
				],
				"volumes": [
					{
						"name": "tmp",
						"emptyDir": {},
					},
					{
						"name": "config",
						"configMap": {
							"name": "payment-service-config",
							"defaultMode": 420,
						},
					},
					{
						"name": "kube-api-access-x7k2p",
						"projected": {
							"defaultMode": 420,
							"sources": [
								{
									"serviceAccountToken": {
										"expirationSeconds": 3607,
										"path": "token",
									},
								},
								{
									"configMap": {
										"name": "kube-root-ca.crt",
										"items": [
											{
												"key": "ca.crt",
												"path": "ca.crt",
											},
										],
									},
								},
								{
									"downwardAPI": {
										"items": [
											{
												"path": "namespace",
												"fieldRef": {
													"apiVersion": "v1",
													"fieldPath": "metadata.namespace",
												},
											},
										],
									},
								},
							],
						},
					},
				],
				"restartPolicy": "Always",
				"terminationGracePeriodSeconds": 30,
				"dnsPolicy": "ClusterFirst",
				"schedulerName": "default-scheduler",
				"enableServiceLinks": true,
				"preemptionPolicy": "PreemptLowerPriority",
				"priority": 0,
				"tolerations": [
					{
						"key": "node.kubernetes.io/not-ready",
						"operator": "Exists",
						"effect": "NoExecute",
						"tolerationSeconds": 300,
					},
					{
						"key": "node.kubernetes.io/unreachable",
						"operator": "Exists",
						"effect": "NoExecute",
						"tolerationSeconds": 300,
					},
				],
				"topologySpreadConstraints": [
					{
						"maxSkew": 1,
						"topologyKey": "topology.kubernetes.io/zone",
						"whenUnsatisfiable": "ScheduleAnyway",
						"labelSelector": {
							"matchLabels": {
								"app": "payment-service",
							},
						},
					},
				],
			},
			"status": {},
		},
		"oldObject": null,
		"dryRun": false,
		"options": {
			"apiVersion": "meta.k8s.io/v1",
			"kind": "CreateOptions",
		},
	},
}

fixture_peerauthentication_permissive := {
	"apiVersion": "admission.k8s.io/v1",
	"kind": "AdmissionReview",
	"request": {
		"uid": "c1d2e3f4-0a1b-4c2d-8e3f-5a6b7c8d9e0f",
		"kind": {
			"group": "security.istio.io",
			"version": "v1",
			"kind": "PeerAuthentication",
		},
		"resource": {
			"group": "security.istio.io",
			"version": "v1",
			"resource": "peerauthentications",
		},
		"requestKind": {
			"group": "security.istio.io",
			"version": "v1",
			"kind": "PeerAuthentication",
		},
		"requestResource": {
			"group": "security.istio.io",
			"version": "v1",
			"resource": "peerauthentications",
		},
		"name": "legacy-clients",
		"namespace": "payments",
		"operation": "CREATE",
		"userInfo": {
			"username": "alice@example.com",
			"groups": [
				"payments-devs",
				"system:authenticated",
			],
		},
		"object": {
			"apiVersion": "security.istio.io/v1",
			"kind": "PeerAuthentication",
			"metadata": {
				"name": "legacy-clients",
				"namespace": "payments",
			},
			"spec": {
				"selector": {
					"matchLabels": {
						"app": "payment-service",
					},
				},
				"mtls": {
					"mode": "PERMISSIVE",
				},
				"portLevelMtls": {
					"9102": {
						"mode": "DISABLE",
					},
				},
			},
		},
		"oldObject": null,
		"dryRun": false,
		"options": {
			"apiVersion": "meta.k8s.io/v1",
			"kind": "CreateOptions",
		},
	},
}
