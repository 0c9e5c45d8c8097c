//! Identity and object permissions as MCP tools: who the server acts as; users, groups and their
//! members, service principals (read-only, through SCIM); and who may do what with clusters,
//! jobs, pipelines, notebooks, folders, SQL warehouses, serving endpoints, instance pools, cluster
//! policies, MLflow experiments, vector search endpoints and Genie spaces (the Permissions API:
//! read, replace, add, and the levels each type has).
//!
//! Nothing here creates or deletes principals: that is account administration, which the host
//! refuses to plugins. Notebooks and folders can be named by workspace path; the tool looks up
//! their object id.

mod identity;
mod permissions;

use identity::{
    get_current_user, get_group, get_service_principal, get_user, list_group_members, list_groups,
    list_service_principals, list_users,
};
use permissions::{get_object_permissions, get_permission_levels, set_object_permissions, update_object_permissions};

databricks_mcp_sdk::plugin! {
    name: "identity-permissions",
    description: "Identity and object permissions: the current user, users, groups and their members, service principals; read, replace and add to the permissions of clusters, jobs, pipelines, notebooks, folders, SQL warehouses, serving endpoints, instance pools, cluster policies, MLflow experiments, vector search endpoints and Genie spaces",
    grants: [
        "GET /api/2.0/preview/scim/v2/Me",
        "GET /api/2.0/preview/scim/v2/Users",
        "GET /api/2.0/preview/scim/v2/Users/*",
        "GET /api/2.0/preview/scim/v2/Groups",
        "GET /api/2.0/preview/scim/v2/Groups/*",
        "GET /api/2.0/preview/scim/v2/ServicePrincipals",
        "GET /api/2.0/preview/scim/v2/ServicePrincipals/*",
        "GET /api/2.0/workspace/get-status",
        "GET /api/2.0/permissions/clusters/*",
        "PUT /api/2.0/permissions/clusters/*",
        "PATCH /api/2.0/permissions/clusters/*",
        "GET /api/2.0/permissions/clusters/*/permissionLevels",
        "GET /api/2.0/permissions/jobs/*",
        "PUT /api/2.0/permissions/jobs/*",
        "PATCH /api/2.0/permissions/jobs/*",
        "GET /api/2.0/permissions/jobs/*/permissionLevels",
        "GET /api/2.0/permissions/pipelines/*",
        "PUT /api/2.0/permissions/pipelines/*",
        "PATCH /api/2.0/permissions/pipelines/*",
        "GET /api/2.0/permissions/pipelines/*/permissionLevels",
        "GET /api/2.0/permissions/notebooks/*",
        "PUT /api/2.0/permissions/notebooks/*",
        "PATCH /api/2.0/permissions/notebooks/*",
        "GET /api/2.0/permissions/notebooks/*/permissionLevels",
        "GET /api/2.0/permissions/directories/*",
        "PUT /api/2.0/permissions/directories/*",
        "PATCH /api/2.0/permissions/directories/*",
        "GET /api/2.0/permissions/directories/*/permissionLevels",
        "GET /api/2.0/permissions/warehouses/*",
        "PUT /api/2.0/permissions/warehouses/*",
        "PATCH /api/2.0/permissions/warehouses/*",
        "GET /api/2.0/permissions/warehouses/*/permissionLevels",
        "GET /api/2.0/permissions/serving-endpoints/*",
        "PUT /api/2.0/permissions/serving-endpoints/*",
        "PATCH /api/2.0/permissions/serving-endpoints/*",
        "GET /api/2.0/permissions/serving-endpoints/*/permissionLevels",
        "GET /api/2.0/permissions/instance-pools/*",
        "PUT /api/2.0/permissions/instance-pools/*",
        "PATCH /api/2.0/permissions/instance-pools/*",
        "GET /api/2.0/permissions/instance-pools/*/permissionLevels",
        "GET /api/2.0/permissions/cluster-policies/*",
        "PUT /api/2.0/permissions/cluster-policies/*",
        "PATCH /api/2.0/permissions/cluster-policies/*",
        "GET /api/2.0/permissions/cluster-policies/*/permissionLevels",
        "GET /api/2.0/permissions/experiments/*",
        "PUT /api/2.0/permissions/experiments/*",
        "PATCH /api/2.0/permissions/experiments/*",
        "GET /api/2.0/permissions/experiments/*/permissionLevels",
        "GET /api/2.0/permissions/vector-search-endpoints/*",
        "PUT /api/2.0/permissions/vector-search-endpoints/*",
        "PATCH /api/2.0/permissions/vector-search-endpoints/*",
        "GET /api/2.0/permissions/vector-search-endpoints/*/permissionLevels",
        "GET /api/2.0/permissions/genie/*",
        "PUT /api/2.0/permissions/genie/*",
        "PATCH /api/2.0/permissions/genie/*",
        "GET /api/2.0/permissions/genie/*/permissionLevels",
    ],
    tools: [
        get_current_user,
        list_users,
        get_user,
        list_groups,
        get_group,
        list_group_members,
        list_service_principals,
        get_service_principal,
        get_object_permissions,
        set_object_permissions,
        update_object_permissions,
        get_permission_levels,
    ],
}
