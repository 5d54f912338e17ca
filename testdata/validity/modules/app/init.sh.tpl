#!/bin/sh
echo "instance ${index}"
