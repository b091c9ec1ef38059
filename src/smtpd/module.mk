$(eval $(call program,smtpd,libexec,dns global util))
