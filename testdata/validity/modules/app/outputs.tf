output "instance_ids" {
  value = aws_instance.app[*].id
}

output "bucket_arns" {
  value = { for k, b in aws_s3_bucket.data : k => provider::aws::arn_parse(b.arn).resource }
}

output "security_group_id" {
  value = aws_security_group.app.id
}
