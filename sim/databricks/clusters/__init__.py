"""A minimal Clusters API (list/get/create/start/delete) that delegates to the ClusterPool."""
