variable "name" {
  type        = string
  description = "Application name, used as a prefix."

  validation {
    condition     = length(var.name) > 0 && length(var.name) <= 32
    error_message = "The name must be 1 to 32 characters long."
  }
}

variable "replicas" {
  type    = number
  default = 2
}

variable "ports" {
  type = list(object({
    port        = number
    cidr_blocks = optional(list(string), ["10.0.0.0/8"])
  }))
  default = []
}

variable "buckets" {
  type    = map(string)
  default = {}
}
