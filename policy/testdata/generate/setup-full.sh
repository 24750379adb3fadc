#!/bin/sh
# Sets up the S3 bucket acme-db-backups and its backup user for putonly.
# Made by: putonly-policy generate --output setup ...
#
# Run it once, as an administrator of account 123456789012, with the AWS CLI v2, in an
# empty directory: it writes the documents it applies (and the access key) there.
# It stops at the first error; every step is printed before it runs.
set -eux
umask 077

BUCKET='acme-db-backups'
ACCOUNT='123456789012'
REGION='eu-west-1'
POLICY_NAME='putonly-acme-db-backups-putonly-db1'
POLICY_ARN="arn:aws:iam::$ACCOUNT:policy/$POLICY_NAME"

test -n "$REGION"
# Refuse to run against the wrong account.
test "$(aws sts get-caller-identity --query Account --output text)" = "$ACCOUNT"

# The documents.
cat > putonly-bucket-policy.json <<'PUTONLY_EOF'
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "PutonlyLocateBucket",
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": "s3:GetBucketLocation",
      "Resource": "arn:aws:s3:::acme-db-backups"
    },
    {
      "Sid": "PutonlyWriteBackups",
      "Effect": "Allow",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": [
        "s3:AbortMultipartUpload",
        "s3:PutObject"
      ],
      "Resource": "arn:aws:s3:::acme-db-backups/db1/*"
    },
    {
      "Sid": "DenyWithoutTLS",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::acme-db-backups",
        "arn:aws:s3:::acme-db-backups/*"
      ],
      "Condition": {
        "Bool": {
          "aws:SecureTransport": "false"
        }
      }
    },
    {
      "Sid": "DenyTLSBelow12",
      "Effect": "Deny",
      "Principal": "*",
      "Action": "s3:*",
      "Resource": [
        "arn:aws:s3:::acme-db-backups",
        "arn:aws:s3:::acme-db-backups/*"
      ],
      "Condition": {
        "NumericLessThan": {
          "s3:TlsVersion": "1.2"
        }
      }
    },
    {
      "Sid": "DenyOverwrite",
      "Effect": "Deny",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::acme-db-backups/*",
      "Condition": {
        "Bool": {
          "s3:ObjectCreationOperation": "true"
        },
        "StringNotEquals": {
          "s3:if-none-match": "*"
        }
      }
    },
    {
      "Sid": "DenyOtherEncryption",
      "Effect": "Deny",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::acme-db-backups/*",
      "Condition": {
        "Null": {
          "s3:x-amz-server-side-encryption": "false"
        },
        "StringNotEquals": {
          "s3:x-amz-server-side-encryption": "aws:kms"
        }
      }
    },
    {
      "Sid": "DenyOtherKMSKey",
      "Effect": "Deny",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::acme-db-backups/*",
      "Condition": {
        "Null": {
          "s3:x-amz-server-side-encryption-aws-kms-key-id": "false"
        },
        "StringNotEquals": {
          "s3:x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        }
      }
    },
    {
      "Sid": "DenyCustomerKeys",
      "Effect": "Deny",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::acme-db-backups/*",
      "Condition": {
        "Null": {
          "s3:x-amz-server-side-encryption-customer-algorithm": "false"
        }
      }
    },
    {
      "Sid": "DenyRetentionAboveCap",
      "Effect": "Deny",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": "s3:PutObject",
      "Resource": "arn:aws:s3:::acme-db-backups/*",
      "Condition": {
        "NumericGreaterThan": {
          "s3:object-lock-remaining-retention-days": "35"
        }
      }
    },
    {
      "Sid": "DenyReadDestroyEscalate",
      "Effect": "Deny",
      "Principal": {
        "AWS": "arn:aws:iam::123456789012:user/putonly-db1"
      },
      "Action": [
        "s3:AllowVendedLogDeliveryForResource",
        "s3:BypassGovernanceRetention",
        "s3:CreateBucketMetadataTableConfiguration",
        "s3:DeleteBucket",
        "s3:DeleteBucketMetadataTableConfiguration",
        "s3:DeleteBucketPolicy",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
        "s3:DeleteObjectVersion",
        "s3:DeleteObjectVersionTagging",
        "s3:GetBucketAcl",
        "s3:GetBucketLogging",
        "s3:GetBucketMetadataTableConfiguration",
        "s3:GetBucketNotification",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPolicy",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketVersioning",
        "s3:GetEncryptionConfiguration",
        "s3:GetInventoryConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:GetObjectAnnotation",
        "s3:GetObjectAttributes",
        "s3:GetObjectLegalHold",
        "s3:GetObjectRetention",
        "s3:GetObjectTagging",
        "s3:GetObjectTorrent",
        "s3:GetObjectVersion",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionAnnotation",
        "s3:GetObjectVersionAnnotationForReplication",
        "s3:GetObjectVersionAttributes",
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionTagging",
        "s3:GetObjectVersionTorrent",
        "s3:GetReplicationConfiguration",
        "s3:InitiateReplication",
        "s3:ListObjectAnnotations",
        "s3:ListObjectVersionAnnotations",
        "s3:ObjectOwnerOverrideToBucketOwner",
        "s3:PauseReplication",
        "s3:PutAnalyticsConfiguration",
        "s3:PutBucketAbac",
        "s3:PutBucketAcl",
        "s3:PutBucketLogging",
        "s3:PutBucketNotification",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "s3:PutBucketVersioning",
        "s3:PutBucketWebsite",
        "s3:PutEncryptionConfiguration",
        "s3:PutIntelligentTieringConfiguration",
        "s3:PutInventoryConfiguration",
        "s3:PutLifecycleConfiguration",
        "s3:PutObjectAcl",
        "s3:PutObjectLegalHold",
        "s3:PutObjectRetention",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionAcl",
        "s3:PutObjectVersionTagging",
        "s3:PutReplicationConfiguration",
        "s3:ReplicateDelete",
        "s3:ReplicateObject",
        "s3:ReplicateTags",
        "s3:RestoreObject",
        "s3:TagResource",
        "s3:UntagResource",
        "s3:UpdateBucketMetadataAnnotationTableConfiguration",
        "s3:UpdateBucketMetadataInventoryTableConfiguration",
        "s3:UpdateBucketMetadataJournalTableConfiguration",
        "s3:UpdateObjectEncryption"
      ],
      "Resource": [
        "arn:aws:s3:::acme-db-backups",
        "arn:aws:s3:::acme-db-backups/*"
      ]
    }
  ]
}
PUTONLY_EOF
cat > putonly-user-policy.json <<'PUTONLY_EOF'
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "PutonlyLocateBucket",
      "Effect": "Allow",
      "Action": "s3:GetBucketLocation",
      "Resource": "arn:aws:s3:::acme-db-backups"
    },
    {
      "Sid": "PutonlyWriteBackups",
      "Effect": "Allow",
      "Action": [
        "s3:AbortMultipartUpload",
        "s3:PutObject"
      ],
      "Resource": "arn:aws:s3:::acme-db-backups/db1/*"
    },
    {
      "Sid": "PutonlyEncryptBackups",
      "Effect": "Allow",
      "Action": [
        "kms:Decrypt",
        "kms:GenerateDataKey"
      ],
      "Resource": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
      "Condition": {
        "StringLike": {
          "kms:ViaService": "s3.*.amazonaws.com"
        }
      }
    },
    {
      "Sid": "DenyReadDestroyEscalate",
      "Effect": "Deny",
      "Action": [
        "s3:AllowVendedLogDeliveryForResource",
        "s3:AssociateAccessGrantsIdentityCenter",
        "s3:BypassGovernanceRetention",
        "s3:CreateAccessGrant",
        "s3:CreateAccessGrantsInstance",
        "s3:CreateAccessGrantsLocation",
        "s3:CreateAccessPoint",
        "s3:CreateAccessPointForObjectLambda",
        "s3:CreateBucketMetadataTableConfiguration",
        "s3:CreateJob",
        "s3:CreateMultiRegionAccessPoint",
        "s3:DeleteAccessGrant",
        "s3:DeleteAccessGrantsInstance",
        "s3:DeleteAccessGrantsInstanceResourcePolicy",
        "s3:DeleteAccessGrantsLocation",
        "s3:DeleteAccessPoint",
        "s3:DeleteAccessPointForObjectLambda",
        "s3:DeleteAccessPointPolicy",
        "s3:DeleteAccessPointPolicyForObjectLambda",
        "s3:DeleteBucket",
        "s3:DeleteBucketMetadataTableConfiguration",
        "s3:DeleteBucketPolicy",
        "s3:DeleteJobTagging",
        "s3:DeleteMultiRegionAccessPoint",
        "s3:DeleteObject",
        "s3:DeleteObjectTagging",
        "s3:DeleteObjectVersion",
        "s3:DeleteObjectVersionTagging",
        "s3:DissociateAccessGrantsIdentityCenter",
        "s3:GetAccessGrant",
        "s3:GetAccessGrantsInstance",
        "s3:GetAccessGrantsInstanceForPrefix",
        "s3:GetAccessGrantsInstanceResourcePolicy",
        "s3:GetAccessGrantsLocation",
        "s3:GetAccessPointPolicy",
        "s3:GetAccessPointPolicyForObjectLambda",
        "s3:GetAccessPointPolicyStatus",
        "s3:GetAccessPointPolicyStatusForObjectLambda",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketAcl",
        "s3:GetBucketLogging",
        "s3:GetBucketMetadataTableConfiguration",
        "s3:GetBucketNotification",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketOwnershipControls",
        "s3:GetBucketPolicy",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketPublicAccessBlock",
        "s3:GetBucketVersioning",
        "s3:GetDataAccess",
        "s3:GetEncryptionConfiguration",
        "s3:GetInventoryConfiguration",
        "s3:GetLifecycleConfiguration",
        "s3:GetMultiRegionAccessPointPolicy",
        "s3:GetMultiRegionAccessPointPolicyStatus",
        "s3:GetObject",
        "s3:GetObjectAcl",
        "s3:GetObjectAnnotation",
        "s3:GetObjectAttributes",
        "s3:GetObjectLegalHold",
        "s3:GetObjectRetention",
        "s3:GetObjectTagging",
        "s3:GetObjectTorrent",
        "s3:GetObjectVersion",
        "s3:GetObjectVersionAcl",
        "s3:GetObjectVersionAnnotation",
        "s3:GetObjectVersionAnnotationForReplication",
        "s3:GetObjectVersionAttributes",
        "s3:GetObjectVersionForReplication",
        "s3:GetObjectVersionTagging",
        "s3:GetObjectVersionTorrent",
        "s3:GetReplicationConfiguration",
        "s3:InitiateReplication",
        "s3:ListAccessGrants",
        "s3:ListAccessGrantsLocations",
        "s3:ListObjectAnnotations",
        "s3:ListObjectVersionAnnotations",
        "s3:ObjectOwnerOverrideToBucketOwner",
        "s3:PauseReplication",
        "s3:PutAccessGrantsInstanceResourcePolicy",
        "s3:PutAccessPointConfigurationForObjectLambda",
        "s3:PutAccessPointPolicy",
        "s3:PutAccessPointPolicyForObjectLambda",
        "s3:PutAccessPointPublicAccessBlock",
        "s3:PutAccountPublicAccessBlock",
        "s3:PutAnalyticsConfiguration",
        "s3:PutBucketAbac",
        "s3:PutBucketAcl",
        "s3:PutBucketLogging",
        "s3:PutBucketNotification",
        "s3:PutBucketObjectLockConfiguration",
        "s3:PutBucketOwnershipControls",
        "s3:PutBucketPolicy",
        "s3:PutBucketPublicAccessBlock",
        "s3:PutBucketTagging",
        "s3:PutBucketVersioning",
        "s3:PutBucketWebsite",
        "s3:PutEncryptionConfiguration",
        "s3:PutIntelligentTieringConfiguration",
        "s3:PutInventoryConfiguration",
        "s3:PutJobTagging",
        "s3:PutLifecycleConfiguration",
        "s3:PutMultiRegionAccessPointPolicy",
        "s3:PutObjectAcl",
        "s3:PutObjectLegalHold",
        "s3:PutObjectRetention",
        "s3:PutObjectTagging",
        "s3:PutObjectVersionAcl",
        "s3:PutObjectVersionTagging",
        "s3:PutReplicationConfiguration",
        "s3:ReplicateDelete",
        "s3:ReplicateObject",
        "s3:ReplicateTags",
        "s3:RestoreObject",
        "s3:SubmitMultiRegionAccessPointRoutes",
        "s3:TagResource",
        "s3:UntagResource",
        "s3:UpdateAccessGrantsLocation",
        "s3:UpdateBucketMetadataAnnotationTableConfiguration",
        "s3:UpdateBucketMetadataInventoryTableConfiguration",
        "s3:UpdateBucketMetadataJournalTableConfiguration",
        "s3:UpdateJobStatus",
        "s3:UpdateObjectEncryption"
      ],
      "Resource": "*"
    }
  ]
}
PUTONLY_EOF
cat > putonly-lifecycle.json <<'PUTONLY_EOF'
{
  "Rules": [
    {
      "ID": "putonly-expire-daily",
      "Status": "Enabled",
      "Filter": {
        "Prefix": "db1/daily/"
      },
      "Expiration": {
        "Days": 35
      },
      "NoncurrentVersionExpiration": {
        "NoncurrentDays": 3
      }
    },
    {
      "ID": "putonly-expire-monthly",
      "Status": "Enabled",
      "Filter": {
        "Prefix": "db1/monthly/"
      },
      "Expiration": {
        "Days": 400
      },
      "NoncurrentVersionExpiration": {
        "NoncurrentDays": 3
      }
    },
    {
      "ID": "putonly-expire-selftest-canaries",
      "Status": "Enabled",
      "Filter": {
        "Prefix": "db1/_putonly-selftest/"
      },
      "Expiration": {
        "Days": 1
      },
      "NoncurrentVersionExpiration": {
        "NoncurrentDays": 3
      }
    },
    {
      "ID": "putonly-abort-incomplete-uploads",
      "Status": "Enabled",
      "Filter": {
        "Prefix": "db1/"
      },
      "AbortIncompleteMultipartUpload": {
        "DaysAfterInitiation": 3
      }
    },
    {
      "ID": "putonly-remove-expired-delete-markers",
      "Status": "Enabled",
      "Filter": {
        "Prefix": "db1/"
      },
      "Expiration": {
        "ExpiredObjectDeleteMarker": true
      }
    }
  ]
}
PUTONLY_EOF

# 1. The bucket. us-east-1 takes no LocationConstraint.
if [ "$REGION" = us-east-1 ]; then
  aws s3api create-bucket --bucket "$BUCKET" --region "$REGION" --object-lock-enabled-for-bucket
else
  aws s3api create-bucket --bucket "$BUCKET" --region "$REGION" --create-bucket-configuration "LocationConstraint=$REGION" --object-lock-enabled-for-bucket
fi
# Nothing in it is ever public, and ACLs play no part in access.
aws s3api put-public-access-block --bucket "$BUCKET" --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
aws s3api put-bucket-ownership-controls --bucket "$BUCKET" --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]'
# Default encryption: what S3 applies to every upload, multipart parts included.
aws s3api put-bucket-encryption --bucket "$BUCKET" --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"KMSMasterKeyID":"arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab","SSEAlgorithm":"aws:kms"},"BlockedEncryptionTypes":{"EncryptionType":["SSE-C"]},"BucketKeyEnabled":true}]}'
# Object lock: every new backup is locked for 35 days (governance mode).
aws s3api put-object-lock-configuration --bucket "$BUCKET" --object-lock-configuration '{"ObjectLockEnabled":"Enabled","Rule":{"DefaultRetention":{"Days":35,"Mode":"GOVERNANCE"}}}'
# Retention: the backup key can delete nothing; these rules expire old backups.
aws s3api put-bucket-lifecycle-configuration --bucket "$BUCKET" --lifecycle-configuration file://putonly-lifecycle.json

# 2. The policy for the backup user: write-only, identity side.
aws iam create-policy --policy-name "$POLICY_NAME" --policy-document file://putonly-user-policy.json \
  --description 'putonly: write-only backups to s3://acme-db-backups/db1/'

# 3. The backup user: no console password (never run create-login-profile for it).
USER_NAME='putonly-db1'
aws iam create-user --user-name "$USER_NAME" --path '/'
aws iam attach-user-policy --user-name "$USER_NAME" --policy-arn "$POLICY_ARN"

# 4. The bucket policy, now that the user exists (S3 rejects a policy naming an
#    unknown principal).
aws s3api put-bucket-policy --bucket "$BUCKET" --policy file://putonly-bucket-policy.json

# 5. Check: no console password, no access key yet.
if aws iam get-login-profile --user-name "$USER_NAME" >/dev/null 2>&1; then
  echo "$USER_NAME has a console password: delete it with aws iam delete-login-profile" >&2
  exit 1
fi
test "$(aws iam list-access-keys --user-name "$USER_NAME" --query 'length(AccessKeyMetadata)' --output text)" = 0

# 6. Exactly one access key, written as a credentials file only you can read.
#    Copy it to the database host's ~/.aws/credentials (mode 600), then delete it here.
set +x
aws iam create-access-key --user-name "${USER_NAME}" --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text |
  { read -r id secret; printf '[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$id" "$secret"; } >"${USER_NAME}.key"
echo "access key written to $USER_NAME.key"
